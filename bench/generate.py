"""Deterministic generator of a provincial dataset (issue 6): Jiangxi's 12 cities and ~100 counties,
5,000 providers, 50,000 staff with 200,000 checks, 150,000 documents, 15,000 projects, 12,000 schools,
200,000 orders and 1,000,000 audit rows at --scale 1.0.

    python -m bench.generate [--scale S] [--db sqlite|postgres|both] [--force] [--verbose]
    (the same as python -m bench.dataset: builds or reuses, see there; `python -m bench` runs the figures)

The world is the state of the registry on AS_OF (a Monday), as the nightly sweep finds it when it
last ran a week earlier (LAST_SWEEP): everything that lapsed before LAST_SWEEP has been recorded
(suspensions by rule, bans for adverse checks, flagged orders, expiry warnings), and what lapsed since
is left for the next sweep, so `sweep.run(AS_OF)` has a realistic week of work.

Everything comes from one random.Random(SEED): the same scale gives the same rows on SQLite and on
PostgreSQL (only the AES-GCM nonces of the encrypted ID numbers differ). Ids are assigned here, so
cross-references never wait for the database. Rows go straight to the database in chunks (see
bench.loader); the audit chain is hashed in order with registry.audit.services.compute_hash.

Benchmarks run with the clock frozen on AS_OF (bench.__main__), so a dataset generated today still
means the same thing when it is reused next month.
"""
import base64
import hashlib
import os
import random
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import stdnum
from stdnum.cn import ric
from stdnum.cn import uscc as uscc_std

from bench import words


def add_years(day, years):
    """The same day `years` later (29 February becomes 28 February), as registry.people.services.add_years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


SEED = 20261129
GENERATOR_VERSION = 2  # 2: entry passes and a month of gate scans (issue 14)
AS_OF = date(2026, 11, 30)
LAST_SWEEP = AS_OF - timedelta(days=7)
NOW = datetime(2026, 11, 29, 16, 0)  # naive UTC: the evening before AS_OF (CST)
PASSWORD = "Bench#Registry2026"  # every generated account; one scrypt hash shared by all of them

FULL = {"providers": 5000, "people": 50000, "checks": 200000, "documents": 150000, "projects": 15000,
        "schools": 12000, "orders": 200000, "audit": 1000000, "scans": 1000000}

TERMS = [  # id, name, start, end
    (1, "2025—2026学年第一学期", date(2025, 9, 1), date(2026, 1, 16)),
    (2, "2025—2026学年第二学期", date(2026, 3, 2), date(2026, 7, 10)),
    (3, "2026—2027学年第一学期", date(2026, 9, 1), date(2027, 1, 22)),
    (4, "2026—2027学年第二学期", date(2027, 3, 1), date(2027, 7, 9)),
]
CURRENT_TERM, NEXT_TERM = 3, 4
# Release batches of every city: (year, seq, status, publicity start, published on).
BATCHES = [
    (2025, 1, "published", date(2025, 9, 1), date(2025, 9, 12)),
    (2025, 2, "published", date(2025, 11, 10), date(2025, 11, 20)),
    (2026, 1, "published", date(2026, 3, 10), date(2026, 3, 20)),
    (2026, 2, "published", date(2026, 7, 3), date(2026, 7, 15)),
    (2026, 3, "published", date(2026, 8, 31), date(2026, 9, 10)),
    (2026, 4, "published", date(2026, 10, 27), date(2026, 11, 6)),
    (2026, 5, "publicity", date(2026, 11, 25), None),
    (2026, 6, "draft", None, None),
]
SCHOOL_YEAR_END = {2025: date(2026, 8, 31), 2026: date(2027, 8, 31)}

CHECK_TYPES = ("criminal", "sexual_offence", "health", "moral")
AGE_LIMITED = ("criminal", "sexual_offence")
REGISTRATION_DOC = {
    "enterprise": "business_license", "private_non_enterprise": "private_non_enterprise_certificate",
    "public_institution": "public_institution_certificate",
    "social_organization": "social_organization_certificate",
    "university_research": "public_institution_certificate", "youth_center": "public_institution_certificate",
}
REQUIRED_EXTRA = ("liability_insurance", "safety_plan")
DOC_LABELS = {
    "business_license": "营业执照", "private_non_enterprise_certificate": "民办非企业单位登记证书",
    "public_institution_certificate": "事业单位法人证书", "social_organization_certificate": "社会团体法人登记证书",
    "school_license": "办学许可证", "liability_insurance": "公众责任保险", "safety_plan": "安全管理制度及应急预案",
    "other": "其他材料",
}
ORG_TYPES = (("enterprise", 46), ("private_non_enterprise", 30), ("social_organization", 12),
             ("public_institution", 6), ("university_research", 3), ("youth_center", 3))
USCC_PREFIX = {"enterprise": "91", "private_non_enterprise": "52", "social_organization": "51",
               "public_institution": "12", "university_research": "12", "youth_center": "12"}
ORG_TYPE_LABELS = {"enterprise": "企业", "private_non_enterprise": "民办非企业单位", "public_institution": "事业单位",
                   "social_organization": "社会团体", "university_research": "高校·科研院所",
                   "youth_center": "青少年校外活动中心"}
CATEGORY_LABELS = {"science": "科普/科技", "sports": "体育", "arts": "美育(艺术)", "labour": "劳动", "reading": "阅读",
                   "traditional_culture": "传统文化", "intangible_heritage": "非遗", "career": "职业体验",
                   "mental_health": "心理健康", "clubs": "社团拓展"}
STAGES = ((1, "lower_primary", "小学低年级(1–3年级)"), (2, "upper_primary", "小学高年级(4–6年级)"),
          (4, "junior", "初中(7–9年级)"))
STAGE_GRADES = {1: (1, 2, 3), 2: (4, 5, 6), 4: (7, 8, 9)}
SCHOOL_MASK = {"primary": 3, "junior": 4, "nine_year": 7}
LEVEL_LABELS = {"beginner": "零起点入门", "advanced": "提高拓展"}
QUAL_LABELS = {"teacher": "教师资格证", "coach": "教练员/社会体育指导员证书", "heritage": "非遗传承人证书",
               "skill": "职业技能等级证书", "arts": "艺术类专业证书", "psychology": "心理咨询/心理健康教育证书",
               "other": "其他专业证书"}
CHECK_LABELS = {"criminal": "违法犯罪记录查询", "sexual_offence": "性侵违法犯罪信息查询", "health": "健康证明",
                "moral": "品德考察"}
STAFF_ROLE_LABELS = {"teacher": "授课教师", "assistant": "助教", "manager": "管理人员"}
REASON_LABELS = {
    "document_expired": "资质材料过期", "staff_not_cleared": "无合格从业人员",
    "adverse_check": "人员违法犯罪信息查询异常",
    "low_satisfaction": "满意度不达标", "safety_incident": "发生安全事故", "illegal_fees": "违规收费",
    "new_lessons": "讲授新课或学科培训", "selling": "推销或变相营销", "forced_participation": "强制学生参加",
    "validity_ended": "有效期届满未年审", "other": "其他",
}
JOURNEYS = (("renewed_2025", 30), ("lapsed_2025", 8), ("spring_2026", 8), ("fall_2026", 26), ("in_review", 10),
            ("draft", 8), ("rejected", 4), ("withdrawn", 2), ("new", 4))
LISTED = {"renewed_2025", "lapsed_2025", "spring_2026", "fall_2026"}


def counts_for(scale):
    return {k: max(1, round(v * scale)) for k, v in FULL.items()}


def _school_year_end(day):
    end = date(day.year, 8, 31)
    return end if day <= end else date(day.year + 1, 8, 31)


def _birth_codes():
    """Jiangxi birthplace codes valid for each birth year, read from python-stdnum's division table
    (the same data ric.validate checks)."""
    path = Path(os.path.dirname(stdnum.__file__)) / "cn" / "loc.dat"
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index('36 province="江西省"')
    by_year = defaultdict(list)
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        suffix, _, props = line.strip().partition(" ")
        if suffix.endswith("00") or suffix.endswith("01"):
            continue
        county = props.partition('county="')[2].rstrip('"')
        for year in range(1962, 2006):
            for part in county.split(","):
                if not part.startswith("["):
                    ok = True
                else:
                    first, last = part[1:].split("]")[0].split("-")
                    ok = (not first or year >= int(first)) and (not last or year <= int(last))
                if ok:
                    by_year[year].append("36" + suffix)
                    break
    return by_year


class P:
    """A person with their records, kept in memory for snapshots, clearance and assignments."""
    __slots__ = ("id", "provider", "name", "gender", "number", "bidx", "masked", "phone", "role", "specialties",
                 "archived", "created", "checks", "quals", "consent", "user")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)


class World:
    def __init__(self, app, sink, scale, log=print):
        self.app = app
        self.sink = sink
        self.scale = scale
        self.n = counts_for(scale)
        self.rng = random.Random(SEED)
        self.log = log
        self.events = []      # audit events: (created_at, action, object_type, object_id, actor_id, details, result)
        self.status_changes = []
        self.ids = defaultdict(int)
        self._cleared = {}   # (person id, day) -> bool; valid once the bans exist (after people())
        from registry.core import crypto
        self.crypto = crypto

    # ---------------------------------------------------------------- helpers

    def next_id(self, table):
        self.ids[table] += 1
        return self.ids[table]

    def ts(self, day, early=1, late=10):
        """A naive-UTC moment on `day` during Chinese office hours."""
        r = self.rng
        return datetime(day.year, day.month, day.day, r.randint(early, late), r.randint(0, 59), r.randint(0, 59))

    def day_between(self, first, last):
        if last <= first:
            return first
        return first + timedelta(days=self.rng.randint(0, (last - first).days))

    def weighted(self, pairs):
        items, weights = zip(*pairs, strict=True)
        return self.rng.choices(items, weights)[0]

    def person_name(self, gender=None):
        r = self.rng
        surname = r.choices(self._surnames, self._surname_weights)[0]
        pool = words.MALE_GIVEN if (gender or r.choice("mf")) in ("male", "m") else words.FEMALE_GIVEN
        given = r.choice(pool) if r.random() < 0.3 else r.choice(pool) + r.choice(pool)
        return surname + given

    def mobile(self):
        r = self.rng
        return f"1{r.choice('3589')}{r.randint(0, 9)}{r.randint(0, 99999999):08d}"

    def address(self, county):
        r = self.rng
        city = self.regions[county["parent_id"]]
        place = f"江西省{county['name']}" if city["code"].startswith("36X") else f"{city['name']}{county['name']}"
        text = f"{place}{r.choice(words.ROADS)}{r.randint(1, 2999)}号"
        if r.random() < 0.4:
            text += f"{r.choice(words.BRANDS)}{r.choice(words.BUILDINGS)}{r.randint(2, 24)}楼"
        return text

    def event(self, when, action, object_type, object_id, actor=None, details=None, result="success"):
        self.events.append((when, action, object_type, object_id, actor, details, result))

    def change(self, object_type, object_id, action, from_status, to_status, when, actor=None, reason=None,
               rule=None, details=None):
        self.status_changes.append({
            "id": len(self.status_changes) + 1, "object_type": object_type, "object_id": object_id, "action": action,
            "from_status": from_status, "to_status": to_status, "actor_id": actor, "reason": reason, "rule": rule,
            "details": details or {}, "created_at": when})
        self.event(when, f"{object_type}.{action}", object_type, object_id, actor,
                   {"from": from_status, "to": to_status, "rule": rule, **({"reason": reason[:200]} if reason else {})})

    def insert(self, table, rows):
        started = time.perf_counter()
        count = self.sink.insert(table, rows)
        self.log(f"  {table}: {count} rows in {time.perf_counter() - started:.1f}s")
        return count

    # ---------------------------------------------------------------- the whole run

    def build(self):
        self._surnames = [s for s, _ in words.SURNAMES]
        self._surname_weights = [w for _, w in words.SURNAMES]
        self.birth_codes = _birth_codes()
        steps = [self.load_regions, self.policies, self.plan_providers, self.schools_and_terms, self.users,
                 self.documents, self.people, self.projects, self.applications, self.entries, self.school_projects,
                 self.orders, self.quality, self.passes, self.notifications_and_runs, self.audit]
        for step in steps:
            started, cpu = time.perf_counter(), time.process_time()
            step()
            self.sink.commit()
            self.log(f"{step.__name__}: {time.perf_counter() - started:.1f}s (cpu {time.process_time() - cpu:.1f}s)")

    # ---------------------------------------------------------------- regions and policy

    def load_regions(self):
        from sqlalchemy import select

        from registry.extensions import db
        from registry.regions import services as regions
        from registry.regions.models import Region
        regions.seed_jiangxi()
        db.session.commit()
        rows = db.session.execute(select(Region.id, Region.code, Region.name, Region.level, Region.parent_id)
                                  .order_by(Region.id)).all()
        db.session.remove()   # no transaction left open: on SQLite it would block WAL checkpoints
        self.regions = {r.id: {"id": r.id, "code": r.code, "name": r.name, "level": r.level.value,
                               "parent_id": r.parent_id} for r in rows}
        self.cities = [r for r in self.regions.values() if r["level"] == "city"]
        self.counties = defaultdict(list)
        for r in self.regions.values():
            if r["level"] == "county":
                self.counties[r["parent_id"]].append(r)
        self.city_by_code = {c["code"]: c for c in self.cities}
        self.log(f"regions: {len(self.cities)} cities, {sum(len(v) for v in self.counties.values())} counties")

    def policies(self):
        custom = {"360700": {"price_cap": Decimal("6.00")}, "360200": {"check_max_age_days": 730},
                  "36X100": {"county_review_required": False, "publicity_working_days": 7},
                  "360400": {"ban_years": 5, "health_validity_days": 730}}
        self.rules = {}
        rows = []
        for city in self.cities:
            rule = {"price_cap": Decimal("5.00"), "county_review_required": True, "check_max_age_days": 365,
                    "health_validity_days": 365, "ban_years": 3, "publicity_working_days": 5}
            rule.update(custom.get(city["code"], {}))
            self.rules[city["id"]] = rule
            if city["code"] in custom:
                rows.append({"id": self.next_id("city_policy"), "city_id": city["id"], "updated_at": NOW,
                             **custom[city["code"]]})
        self.insert("city_policy", rows)

    # ---------------------------------------------------------------- providers

    def _org_name(self, org_type, category, county, taken):
        r = self.rng
        city = self.regions[county["parent_id"]]
        short = words.CITY_INFO[city["code"]][0]
        county_short = county["name"].replace("赣江新区", "")
        for attempt in range(50):
            place = r.choice((short, short + ("市" if not city["code"].startswith("36X") else ""), county["name"]))
            brand = r.choice(words.BRANDS)
            if org_type == "enterprise":
                name = (f"{place}{brand}{r.choice(words.ENTERPRISE_WORDS[category])}"
                        f"{r.choice(('有限公司', '有限公司', '有限责任公司'))}")
            elif org_type == "private_non_enterprise":
                name = f"{place}{brand}{r.choice(words.NONPROFIT_WORDS[category])}中心"
            elif org_type == "social_organization":
                word, kind = r.choice(words.SOCIETY_WORDS[category])
                name = f"{place}{word}{kind}" if attempt < 3 else f"{place}{brand}{word}{kind}"
            elif org_type == "public_institution":
                name = f"{r.choice((city['name'], county['name']))}{r.choice(words.PUBLIC_UNITS)}"
                if attempt >= 5:
                    name = f"{county['name']}{brand}{r.choice(words.PUBLIC_UNITS)}"
            elif org_type == "university_research":
                name = f"{r.choice(words.UNIVERSITIES)}{r.choice(words.UNIVERSITY_UNITS)}"
                if attempt >= 5:
                    name = f"{r.choice(words.UNIVERSITIES)}{county_short}{r.choice(words.UNIVERSITY_UNITS)}"
            else:
                name = f"{county['name']}{r.choice(words.YOUTH_UNITS)}"
                if attempt >= 5:
                    name = f"{county['name']}{brand}{r.choice(words.YOUTH_UNITS)}"
            if name not in taken:
                taken.add(name)
                return name
        raise RuntimeError("could not find a fresh organisation name")

    def _uscc(self, org_type, county, taken):
        r = self.rng
        division = words.NUMERIC_DIVISION.get(county["code"], county["code"])
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        while True:
            if org_type == "enterprise":
                org = "MA3" + "".join(r.choice(alphabet) for _ in range(6))
            elif org_type in ("private_non_enterprise", "social_organization"):
                org = "MJ" + "".join(r.choice("0123456789") for _ in range(6)) + r.choice(alphabet)
            else:
                org = "4" + "".join(r.choice("0123456789") for _ in range(7)) + r.choice(alphabet)
            body = USCC_PREFIX[org_type] + division + org
            code = body + uscc_std.calc_check_digit(body)
            if code not in taken:
                taken.add(code)
                return code

    def plan_providers(self):
        r = self.rng
        city_weights = [(c, words.CITY_INFO[c["code"]][2]) for c in self.cities]
        names, usccs = set(), set()
        self.providers = []
        rows, areas = [], []
        for pid in range(1, self.n["providers"] + 1):
            city = self.weighted(city_weights)
            county = r.choice(self.counties[city["id"]])
            org_type = self.weighted(ORG_TYPES)
            category = self.weighted(words.CATEGORY_WEIGHTS.items())
            journey = self.weighted(JOURNEYS)
            registered = {
                "renewed_2025": (date(2025, 3, 1), date(2025, 7, 31)),
                "lapsed_2025": (date(2025, 3, 1), date(2025, 10, 20)),
                "spring_2026": (date(2025, 11, 1), date(2026, 2, 20)),
                "fall_2026": (date(2026, 3, 1), date(2026, 9, 30)),
                "in_review": (date(2026, 6, 1), date(2026, 11, 1)), "draft": (date(2026, 5, 1), date(2026, 11, 25)),
                "rejected": (date(2025, 6, 1), date(2026, 10, 1)), "withdrawn": (date(2025, 10, 1), date(2026, 10, 1)),
                "new": (date(2026, 6, 1), date(2026, 11, 28)),
            }[journey]
            reg_day = self.day_between(*registered)
            name = self._org_name(org_type, category, county, names)
            code = self._uscc(org_type, county, usccs)
            legal = self.person_name()
            contact = self.person_name()
            area_code = words.CITY_INFO[city["code"]][1]
            phone = self.mobile() if r.random() < 0.7 else f"{area_code}-{r.randint(6, 8)}{r.randint(0, 9999999):07d}"
            others = [c for c in self.counties[city["id"]] if c["id"] != county["id"]]
            extra = r.choices((0, 1, 2), (70, 22, 8))[0]
            service = [county] + r.sample(others, min(extra, len(others)))
            created = self.ts(reg_day)
            provider = {"id": pid, "name": name, "uscc": code, "org_type": org_type, "category": category,
                        "journey": journey, "city": city, "county": county, "service": service, "created": created,
                        "legal": legal, "contact": contact, "phone": phone, "address": self.address(county)}
            provider["description"] = (f"{name}长期面向中小学生开展{CATEGORY_LABELS[category]}类公益性课后服务活动,"
                                       "师资稳定,安全管理制度健全,服务范围覆盖"
                                       f"{'、'.join(c['name'] for c in service)}。")
            self.providers.append(provider)
            rows.append({"id": pid, "name": name, "uscc": code, "org_type": org_type, "legal_representative": legal,
                         "contact_name": contact, "contact_phone": phone, "address": provider["address"],
                         "county_id": county["id"], "city_id": city["id"], "description": provider["description"],
                         "created_at": created})
            for c in service:
                areas.append({"id": self.next_id("provider_service_area"), "provider_id": pid, "county_id": c["id"]})
        self.insert("provider", rows)
        self.insert("provider_service_area", areas)

    # ---------------------------------------------------------------- schools and terms

    def schools_and_terms(self):
        r = self.rng
        self.insert("term", [{"id": tid, "name": name, "starts_on": start, "ends_on": end,
                              "created_at": self.ts(start - timedelta(days=60))} for tid, name, start, end in TERMS])
        self.terms = {tid: (name, start, end) for tid, name, start, end in TERMS}
        city_weights = [(c, words.CITY_INFO[c["code"]][3]) for c in self.cities]
        seq = defaultdict(int)
        names = set()
        self.schools = []
        rows = []
        pseudo = {}
        for sid in range(1, self.n["schools"] + 1):
            city = self.weighted(city_weights)
            county = r.choice(self.counties[city["id"]])
            school_type = r.choices(("primary", "junior", "nine_year"), (65, 25, 10))[0]
            for attempt in range(40):
                place = r.choice(words.SCHOOL_PLACES)
                suffix = r.choice(words.SCHOOL_SUFFIX[school_type])
                if school_type == "junior" and r.random() < 0.35:
                    name = f"{county['name']}第{words.NUMERALS[r.randint(0, 9)]}中学"
                else:
                    name = f"{county['name']}{place}{suffix}"
                if attempt > 20:
                    name = f"{county['name']}{place}{words.NUMERALS[r.randint(0, 9)]}{suffix}"
                if name not in names:
                    break
            names.add(name)
            if county["code"].startswith("36X"):
                division = pseudo.setdefault(county["code"], f"3699{len(pseudo) + 1:02d}")
            else:
                division = county["code"]
            seq[division] += 1
            code = f"2{division}{seq[division]:03d}"
            students = r.randint(*{"primary": (280, 3200), "junior": (400, 3600),
                                   "nine_year": (500, 4200)}[school_type])
            school = {"id": sid, "name": name, "code": code, "county": county, "city": city, "type": school_type,
                      "mask": SCHOOL_MASK[school_type]}
            self.schools.append(school)
            rows.append({"id": sid, "name": name, "code": code, "county_id": county["id"], "city_id": city["id"],
                         "school_type": school_type, "address": self.address(county), "student_count": students,
                         "created_at": self.ts(date(2025, 8, 1) + timedelta(days=r.randint(0, 20)))})
        self.insert("school", rows)

    # ---------------------------------------------------------------- accounts

    def users(self):
        from werkzeug.security import generate_password_hash
        r = self.rng
        password_hash = generate_password_hash(PASSWORD, method=self.app.config["PASSWORD_HASH_METHOD"])
        rows = []
        self.user_info = {}

        def add(username, display, role, when, region_id=None, provider_id=None, school_id=None, email=None,
                disabled=None):
            uid = self.next_id("user")
            rows.append({"id": uid, "username": username, "display_name": display, "email": email, "role": role,
                         "region_id": region_id, "provider_id": provider_id, "school_id": school_id,
                         "password_hash": password_hash, "password_changed_at": when, "must_change_password": False,
                         "failed_logins": 0, "disabled_at": disabled, "created_at": when})
            self.user_info[uid] = (username, role)
            self.event(when, "user.create", "user", uid, None, {"username": username, "role": role,
                                                                "region_id": region_id})
            return uid

        start = datetime(2025, 2, 10, 2, 0)
        self.admin = add("admin", "系统管理员", "sys_admin", start)
        add("auditor", "审计管理员", "auditor", start)
        self.city_reviewers, self.county_reviewers = {}, {}
        for city in self.cities:
            code = city["code"].lower()
            self.city_reviewers[city["id"]] = [
                add(f"city_{code}_{i}", f"{city['name']}教育局审核员{self.person_name()}", "city_reviewer",
                    start + timedelta(days=r.randint(1, 30)), region_id=city["id"],
                    email=f"city_{code}_{i}@bench.invalid")
                for i in (1, 2)]
            for county in self.counties[city["id"]]:
                ccode = county["code"].lower()
                self.county_reviewers[county["id"]] = add(
                    f"county_{ccode}", f"{county['name']}教育局审核员{self.person_name()}", "county_reviewer",
                    start + timedelta(days=r.randint(1, 60)), region_id=county["id"],
                    email=f"county_{ccode}@bench.invalid")
                if r.random() < 0.35:
                    add(f"inspector_{ccode}", f"{county['name']}责任督学{self.person_name()}", "inspector",
                        start + timedelta(days=r.randint(1, 90)), region_id=county["id"])
        for p in self.providers:
            short = p["name"][:10]
            p["admin"] = add(f"p{p['id']:05d}", f"{short}管理员", "provider_admin", p["created"], provider_id=p["id"],
                             email=f"p{p['id']:05d}@bench.invalid")
            self.event(p["created"], "provider.register", "provider", p["id"], p["admin"], {"uscc": p["uscc"]})
            if r.random() < 0.25:
                add(f"p{p['id']:05d}_b", self.person_name(), "provider_admin",
                    p["created"] + timedelta(days=r.randint(1, 90)),
                    provider_id=p["id"], email=f"p{p['id']:05d}_b@bench.invalid",
                    disabled=NOW - timedelta(days=r.randint(1, 60)) if r.random() < 0.04 else None)
        self.school_admin = {}
        for s in self.schools:
            when = datetime(2025, 8, 20, 2, 0) + timedelta(days=r.randint(0, 20), minutes=r.randint(0, 600))
            self.school_admin[s["id"]] = add(f"s{s['code']}", f"{s['name']}管理员", "school_admin", when,
                                             school_id=s["id"], email=f"s{s['code']}@bench.invalid")
        self.insert("user", rows)

    # ---------------------------------------------------------------- files and documents

    def _file(self, rows, provider, title, when, uploader):
        r = self.rng
        fid = self.next_id("stored_file")
        image = r.random() < 0.15
        sha = f"{r.getrandbits(256):064x}"
        rows.append({"id": fid, "storage_key": f"{fid:08x}{r.getrandbits(128):032x}",
                     "original_name": f"{title}.{'jpg' if image else 'pdf'}",
                     "content_type": "image/jpeg" if image else "application/pdf", "size": r.randint(60_000, 3_500_000),
                     "sha256": sha, "provider_id": provider["id"], "uploaded_by_id": uploader, "created_at": when})
        return fid, sha

    def _issuer(self, doc_type, provider):
        city, county = provider["city"], provider["county"]
        short = words.CITY_INFO[city["code"]][0]
        return {
            "business_license": f"{county['name']}市场监督管理局",
            "private_non_enterprise_certificate": f"{city['name']}民政局",
            "social_organization_certificate": f"{city['name']}民政局",
            "public_institution_certificate": f"{city['name']}事业单位登记管理局",
            "school_license": f"{county['name']}教育体育局",
            "liability_insurance": self.rng.choice((f"中国人民财产保险股份有限公司{short}市分公司",
                                                    f"中国平安财产保险股份有限公司{short}中心支公司",
                                                    f"中国太平洋财产保险股份有限公司{short}中心支公司")),
        }.get(doc_type, provider["name"])

    def documents(self):
        """About 30 documents per provider: the required set, optional ones, and the versions each replaced."""
        r = self.rng
        files, docs = [], []
        mean = self.n["documents"] / self.n["providers"]
        self.docs_by_provider = defaultdict(list)   # provider id -> [doc dict] (all versions)
        for p in self.providers:
            reg_day = p["created"].date()
            reviewers = self.city_reviewers[p["city"]["id"]]
            listed = p["journey"] in LISTED
            plan = []   # (doc_type, title, versions[(issue, expiry, uploaded day)])
            reg_type = REGISTRATION_DOC[p["org_type"]]
            issue = reg_day - timedelta(days=r.randint(200, 5000))
            expiry = None if r.random() < 0.8 else \
                max(issue + timedelta(days=3650), AS_OF + timedelta(days=r.randint(60, 3000)))
            versions = [(issue, expiry, reg_day)]
            if r.random() < 0.15:  # the certificate was re-issued (new address or representative)
                later = self.day_between(reg_day + timedelta(days=30), AS_OF - timedelta(days=20))
                if later > reg_day:
                    versions.append((later - timedelta(days=r.randint(1, 20)), expiry, later))
            plan.append((reg_type, DOC_LABELS[reg_type], versions))
            missing_insurance = p["journey"] in ("new", "draft") and r.random() < 0.3
            if not missing_insurance:
                plan.append(("liability_insurance", "公众责任保险单", self._insurance_versions(p, reg_day, listed)))
            revisions = r.choices((1, 2, 3), (60, 30, 10))[0]
            days = sorted(self.day_between(reg_day, AS_OF - timedelta(days=1)) for _ in range(revisions - 1))
            plan.append(("safety_plan", "安全管理制度及应急预案",
                         [(reg_day, None, reg_day)] + [(d, None, d) for d in days]))
            if p["org_type"] in ("enterprise", "private_non_enterprise") and r.random() < 0.15:
                issue = reg_day - timedelta(days=r.randint(100, 2000))
                plan.append(("school_license", "办学许可证", [(issue, issue + timedelta(days=365 * 5), reg_day)]))
            target = max(4, round(r.gauss(mean, mean / 4)))
            have = sum(len(v) for _, _, v in plan)
            while have < target:
                title = r.choice(words.OTHER_DOC_TITLES)
                n_versions = min(target - have, r.choices((1, 2, 3), (70, 22, 8))[0])
                first = self.day_between(reg_day, AS_OF - timedelta(days=2))
                versions = [(first, None, first)]
                for _ in range(n_versions - 1):
                    if versions[-1][2] >= AS_OF - timedelta(days=1):
                        break
                    nxt = self.day_between(versions[-1][2] + timedelta(days=1), AS_OF - timedelta(days=1))
                    versions.append((nxt, None, nxt))
                plan.append(("other", title, versions))
                have += len(versions)
            for doc_type, title, versions in plan:
                previous = None
                for index, (issue, expiry, uploaded) in enumerate(versions):
                    current = index == len(versions) - 1
                    when = self.ts(uploaded)
                    fid, sha = self._file(files, p, title, when, p["admin"])
                    did = self.next_id("provider_document")
                    status, verified_at, verifier, note = "pending", None, None, None
                    roll = r.random()
                    waited = (AS_OF - uploaded).days
                    if not current:
                        status = "verified"
                    elif listed and waited > 12:
                        if roll < 0.97:
                            status = "verified"
                        elif roll < 0.985 and doc_type == "liability_insurance":
                            status = "rejected"
                            note = "保单被保险人名称与机构名称不一致,请重新上传。"
                    elif listed and waited >= 2 and doc_type == "liability_insurance" and roll < 0.7:
                        status = "verified"   # a renewal is checked quickly
                    elif waited > 12 and roll < 0.6:
                        status = "verified"
                    if status != "pending":
                        verified_at = when + timedelta(days=r.randint(1, max(1, min(10, waited - 1))),
                                                       hours=r.randint(0, 5))
                        verifier = r.choice(reviewers)
                    doc = {"id": did, "provider_id": p["id"], "doc_type": doc_type, "title": title,
                           "number": f"{doc_type[:3].upper()}{uploaded.year}{r.randint(0, 999999):06d}",
                           "issuer": self._issuer(doc_type, p), "issue_date": issue, "expiry_date": expiry,
                           "file_id": fid, "sha256": sha, "verification_status": status, "verified_by_id": verifier,
                           "verified_at": verified_at, "verification_note": note,
                           "replaces_id": previous["id"] if previous else None, "superseded_at": None,
                           "uploaded_by_id": p["admin"], "created_at": when}
                    if previous is not None:
                        previous["superseded_at"] = when
                    docs.append(doc)
                    self.docs_by_provider[p["id"]].append(doc)
                    self.event(when, "document.upload", "provider_document", did, p["admin"],
                               {"doc_type": doc_type, "replaces": doc["replaces_id"]})
                    if verified_at is not None:
                        self.event(verified_at, "document.verify", "provider_document", did, verifier,
                                   {"ok": status == "verified"})
                    previous = doc
        self.insert("stored_file", files)
        self.insert("provider_document", docs)

    def _insurance_versions(self, p, reg_day, listed):
        """Yearly policies from registration on, each renewal uploaded shortly before the old one ends.
        Some providers let it lapse; a fifth of those renewed during the last week (the sweep lifts them)."""
        r = self.rng
        issue, uploaded = reg_day - timedelta(days=r.randint(0, 200)), reg_day
        versions = []
        while True:
            expiry = issue + timedelta(days=364)
            versions.append((issue, expiry, uploaded))
            next_upload = max(uploaded + timedelta(days=1), expiry - timedelta(days=r.randint(1, 20)))
            if next_upload > AS_OF - timedelta(days=1):
                break
            issue, uploaded = expiry + timedelta(days=1), next_upload
        if r.random() < 0.05:
            while len(versions) > 1 and versions[-1][1] >= AS_OF:
                versions.pop()
            if versions[-1][1] < AS_OF and versions[-1][1] < LAST_SWEEP and r.random() < 0.2:
                renewed = self.day_between(LAST_SWEEP + timedelta(days=1), AS_OF - timedelta(days=2))
                versions.append((renewed, renewed + timedelta(days=364), renewed))
        return versions

    # ---------------------------------------------------------------- people

    def _id_number(self, gender, taken):
        r = self.rng
        while True:
            year = r.randint(1966, 2003)
            birth = date(year, 1, 1) + timedelta(days=r.randint(0, 364))
            code = r.choice(self.birth_codes[year])
            seq = r.randint(0, 499) * 2 + (1 if gender == "male" else 0)
            body = f"{code}{birth:%Y%m%d}{seq:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in taken:
                taken.add(number)
                return number

    def people(self):
        """Staff with checks, qualifications and consent. Qualifications follow the provider's projects,
        so most projects have someone qualified; the dates make some lapse, some lapse this week."""
        r = self.rng
        mean = self.n["people"] / self.n["providers"]
        checks_per_person = self.n["checks"] / self.n["people"]
        self.history_rate = max(0.0, (checks_per_person - 4 * 0.989) / 4)  # 1.1% of checks are missing
        taken = set()
        persons, check_rows, qual_rows, consent_rows, files = [], [], [], [], []
        self.people_by_provider = defaultdict(list)
        self.adverse = []
        # Projects are planned here (before people) so qualifications can match them.
        self.plan_projects()
        for p in self.providers:
            n_people = 1 + round(r.expovariate(1 / max(0.5, (mean - 0.06) / 0.96 - 1)))
            if p["journey"] == "new":
                n_people = r.randint(0, 3)
            n_people = min(n_people, 120)
            needed = [proj["qual"] for proj in self.projects_by_provider[p["id"]]]
            reg_day = p["created"].date()
            for k in range(n_people):
                gender = "female" if r.random() < 0.58 else "male"
                number = self._id_number(gender, taken)
                person = self._person(p, gender, number, reg_day, needed, k, persons, check_rows, qual_rows,
                                      consent_rows, files)
                self.people_by_provider[p["id"]].append(person)
        # Someone banned at one provider turns up at another: the ban follows the blind index.
        movers = [pp for pp in self.adverse if r.random() < 0.3]
        others = [p for p in self.providers if p["journey"] in LISTED]
        for banned in movers:
            p = r.choice(others)
            if banned.provider["id"] == p["id"] or any(x.bidx == banned.bidx for x in self.people_by_provider[p["id"]]):
                continue
            person = self._person(p, banned.gender, banned.number, max(p["created"].date(), banned.created.date()),
                                  [], 99, persons, check_rows, qual_rows, consent_rows, files, name=banned.name,
                                  clear_only=True)
            self.people_by_provider[p["id"]].append(person)
        self.insert("stored_file", files)
        self.insert("person", persons)
        self.insert("person_check", check_rows)
        self.insert("qualification", qual_rows)
        self.insert("consent", consent_rows)
        self._bans()

    def _person(self, p, gender, number, reg_day, needed, k, persons, check_rows, qual_rows, consent_rows, files,
                name=None, clear_only=False):
        r = self.rng
        crypto = self.crypto
        pid = self.next_id("person")
        role = "teacher" if k < len(needed) else r.choices(("teacher", "assistant", "manager"), (70, 20, 10))[0]
        joined = self.day_between(reg_day, AS_OF - timedelta(days=3))
        created = self.ts(joined)
        archived = None
        if r.random() < 0.03:
            archived = self.ts(self.day_between(joined, AS_OF - timedelta(days=1)))
        # Qualifications: one per project the person is meant for, sometimes a second one.
        quals = []
        if role == "teacher":
            kinds = [needed[k]] if k < len(needed) else [r.choice(needed) if needed else r.choice(list(QUAL_LABELS))]
            if r.random() < 0.2:
                kinds.append(r.choice(list(QUAL_LABELS)))
        else:
            kinds = [r.choice(needed) if needed else "other"] if r.random() < 0.4 else []
        specialties = "、".join(r.sample(words.SPECIALTIES[kinds[0] if kinds else "other"], 2))
        for kind in dict.fromkeys(kinds):
            qid = self.next_id("qualification")
            issue = joined - timedelta(days=r.randint(60, 4000))
            if kind == "teacher":
                expiry = None
            else:
                roll = r.random()
                if roll < 0.02:
                    expiry = self.day_between(AS_OF - timedelta(days=300), AS_OF - timedelta(days=1))
                elif roll < 0.05:
                    expiry = self.day_between(AS_OF, AS_OF + timedelta(days=30))
                elif roll < 0.5:
                    expiry = None
                else:
                    expiry = self.day_between(AS_OF + timedelta(days=31), AS_OF + timedelta(days=1800))
                if expiry is not None and expiry < issue:
                    issue = expiry - timedelta(days=r.randint(365, 1800))
            qual = (qid, kind, f"{QUAL_LABELS[kind]}", f"{kind[:2].upper()}{issue.year}{r.randint(0, 99999999):08d}",
                    words.QUALIFICATION_ISSUERS[kind], issue, expiry)
            quals.append(qual)
            qual_rows.append({"id": qid, "person_id": pid, "qual_type": kind, "name": qual[2], "number": qual[3],
                              "issuer": qual[4], "issue_date": issue, "expiry_date": expiry, "created_at": created})
            self.event(created, "person.qualification_add", "person", pid, p["admin"],
                       {"qualification_id": qid, "qual_type": kind})
        # Checks: done together on a base day; the age decides whether they still count.
        roll = r.random()
        listed = p["journey"] in LISTED
        if roll < 0.86:
            age = r.randint(3, 330)
        elif roll < 0.95:
            age = r.randint(331, 365)
        elif roll < 0.97:
            age = r.randint(368, 372)   # lapsed since the last sweep
        else:
            age = r.randint(373, 560)
        missing_rate = 0.004 if listed else 0.03
        base = AS_OF - timedelta(days=age)
        base = max(base, joined - timedelta(days=60))
        city_rules = self.rules[p["city"]["id"]]
        checks = []
        county, city = p["county"], p["city"]
        adverse_type = None
        if not clear_only and r.random() < 0.005:
            adverse_type = "sexual_offence" if r.random() < 0.2 else "criminal"
            if r.random() < 0.2:
                base = self.day_between(LAST_SWEEP + timedelta(days=1), AS_OF - timedelta(days=1))
        for check_type in CHECK_TYPES:
            if not clear_only and r.random() < missing_rate:
                continue  # this check was never recorded
            day = min(base + timedelta(days=r.randint(0, 2)), AS_OF - timedelta(days=1))
            records = []
            if r.random() < self.history_rate:
                old = day - timedelta(days=r.randint(365, 720))
                records.append((old, "clear"))
            result = "clear"
            if check_type == adverse_type:
                result = "adverse"
            elif (AS_OF - day).days < 25 and r.random() < 0.15:
                result = "pending"
            records.append((day, result))
            for check_day, result in records:
                cid = self.next_id("person_check")
                if check_type == "health":
                    valid_until = check_day + timedelta(days=city_rules["health_validity_days"])
                elif check_type == "moral":
                    valid_until = None if r.random() < 0.6 else check_day + timedelta(days=730)
                else:
                    valid_until = None
                if check_type in AGE_LIMITED:
                    authority = f"{city['name']}公安局{county['name']}分局" if county["name"].endswith("区") \
                        else f"{county['name']}公安局"
                elif check_type == "health":
                    authority = f"{words.CITY_INFO[city['code']][0]}市{r.choice(words.HOSPITALS)}"
                else:
                    authority = r.choice((f"{county['name']}教育体育局", "所在社区居民委员会", "原工作单位"))
                recorded = self.ts(min(check_day + timedelta(days=r.randint(0, 3)), AS_OF - timedelta(days=1)))
                recorded = max(recorded, created)
                verified_at, verifier, status = None, None, "pending"
                if result != "pending" and (AS_OF - check_day).days > 10 and r.random() < 0.9:
                    verified_at = recorded + timedelta(days=r.randint(1, 8))
                    if verified_at < NOW:
                        status = "verified"
                        verifier = r.choice(self.city_reviewers[city["id"]])
                    else:
                        verified_at = None
                check = (cid, check_type, result, check_day, valid_until, recorded)
                checks.append(check)
                check_rows.append({"id": cid, "person_id": pid, "check_type": check_type, "result": result,
                                   "check_date": check_day, "valid_until": valid_until, "authority": authority,
                                   "reference_no": (f"{check_type[:3].upper()}{check_day:%Y%m%d}"
                                                    f"{r.randint(0, 99999):05d}"),
                                   "file_id": None, "verification_status": status, "verified_by_id": verifier,
                                   "verified_at": verified_at, "recorded_by_id": p["admin"], "created_at": recorded})
                self.event(recorded, "person.check_add", "person", pid, p["admin"],
                           {"check_id": cid, "check_type": check_type})
                if verified_at is not None:
                    self.event(verified_at, "check.verify", "person_check", cid, verifier, {"ok": True})
        consent = None
        if r.random() < 0.97:
            first = min((c[3] for c in checks), default=joined)
            consent_day = max(reg_day, first - timedelta(days=r.randint(0, 10)))
            when = self.ts(min(consent_day, AS_OF - timedelta(days=1)))
            fid, _sha = self._file(files, p, "查询授权同意书", when, p["admin"])
            coid = self.next_id("consent")
            consent = (coid, consent_day, fid)
            consent_rows.append({"id": coid, "person_id": pid, "consent_date": consent_day, "file_id": fid,
                                 "note": "", "recorded_by_id": p["admin"], "created_at": when})
            self.event(when, "person.consent", "person", pid, p["admin"], {"consent_id": coid})
        person_name = name or self.person_name(gender)
        bidx = crypto.blind_index(number, "person-id")
        person = P(id=pid, provider=p, name=person_name, gender=gender, number=number, bidx=bidx,
                   masked=number[:6] + "*" * 8 + number[-4:], phone=self.mobile(), role=role, specialties=specialties,
                   archived=archived, created=created, checks=checks, quals=quals, consent=consent, user=p["admin"])
        persons.append({"id": pid, "provider_id": p["id"], "name": person_name,
                        "id_enc": crypto.encrypt(number, "person.id_number"), "id_key_id": crypto.current_key_id(),
                        "id_bidx": bidx, "id_masked": person.masked, "gender": gender, "phone": person.phone,
                        "staff_role": role, "specialties": specialties, "archived_at": archived, "created_at": created})
        self.event(created, "person.create", "person", pid, p["admin"], {"provider_id": p["id"]})
        if adverse_type:
            self.adverse.append(person)
        return person

    def _bans(self):
        """Adverse checks recorded before the last sweep have their ban, their referral and lost assignments;
        newer ones wait for the sweep."""
        bans, actions = [], []
        self.bans = defaultdict(list)  # bidx -> [(starts, ends)] of the ban rows (written by a past sweep)
        self.live_bans = defaultdict(list)  # bidx -> [(starts, ends)] of adverse checks the sweep has not seen yet
        for person in self.adverse:
            for cid, check_type, result, check_day, _valid, recorded in person.checks:
                if result != "adverse":
                    continue
                if recorded.date() > LAST_SWEEP:
                    # No row yet, but the app bans at once (people.services.AdverseBan): from the check's
                    # date, for the recording provider's city's ban years (for ever after a sexual-offence hit).
                    years = self.rules[person.provider["city"]["id"]]["ban_years"]
                    self.live_bans[person.bidx].append(
                        (check_day, None if check_type == "sexual_offence" else add_years(check_day, years)
                         - timedelta(days=1)))
                    continue
                starts = min(recorded.date() + timedelta(days=1), LAST_SWEEP)
                years = self.rules[person.provider["city"]["id"]]["ban_years"]
                ends = None if check_type == "sexual_offence" else \
                    starts.replace(year=starts.year + years) - timedelta(days=1)
                bid = self.next_id("person_ban")
                when = self.ts(starts, 17, 19)
                bans.append({"id": bid, "id_bidx": person.bidx, "reason": "查询结果有不良记录", "source_check_id": cid,
                             "starts_on": starts, "ends_on": ends, "created_at": when})
                self.bans[person.bidx].append((starts, ends))
                deadline = starts + timedelta(days=14)
                actions.append({"id": self.next_id("provider_action"), "provider_id": person.provider["id"],
                                "entry_id": None, "kind": "referral", "reason_category": "adverse_check",
                                "reason": f"{person.name}({person.masked})查询结果有不良记录,已列入禁入名单;"
                                          f"请于{deadline.isoformat()}前完成核查",
                                "effective_on": starts, "rule": "adverse_check",
                                "evidence": {"check_id": cid, "deadline": deadline.isoformat()},
                                "dedupe_key": f"adverse_check:{cid}", "created_at": when})
                self.event(when, "person.ban", "person", person.id, None, {"check_id": cid, "rule": "adverse_check"})
        self.insert("person_ban", bans)
        self.pending_actions = actions

    # ---------------------------------------------------------------- clearance, as the app computes it

    def cleared(self, person, day):
        key = (person.id, day)
        value = self._cleared.get(key)
        if value is None:
            value = self._cleared[key] = self._compute_cleared(person, day)
        return value

    def _compute_cleared(self, person, day):
        if person.archived is not None and person.archived.date() <= day:
            return False
        max_age = self.rules[person.provider["city"]["id"]]["check_max_age_days"]
        latest = {}
        for check in person.checks:
            cid, check_type, result, check_day, valid_until, recorded = check
            if recorded.date() > day:
                continue
            current = latest.get(check_type)
            if current is None or (check_day, cid) > (current[3], current[0]):
                latest[check_type] = check
        if len(latest) < 4:
            return False
        for _cid, check_type, result, check_day, valid_until, _recorded in latest.values():
            if result != "clear":
                return False
            if check_type in AGE_LIMITED:
                if check_day + timedelta(days=max_age) < day or (valid_until is not None and valid_until < day):
                    return False
            elif check_type == "health":
                if valid_until < day:
                    return False
            elif valid_until is not None and valid_until < day:
                return False
        for starts, ends in (*self.bans.get(person.bidx, ()), *self.live_bans.get(person.bidx, ())):
            if starts <= day and (ends is None or ends >= day):
                return False
        return True

    @staticmethod
    def qualified(person, kind, day):
        return any(q[1] == kind and q[5] <= day and (q[6] is None or q[6] >= day) for q in person.quals)

    def covered(self, project, day):
        return any(self.cleared(s, day) and self.qualified(s, project["qual"], day) for s in project["staff"])

    def clearance_reasons(self, person, day):
        return [] if self.cleared(person, day) else ["部分查询记录缺失、结果异常或已过期"]

    def doc_problems(self, provider, day):
        """Required documents missing, rejected or expired on `day`, looking at the versions current then."""
        current = {}
        for doc in self.docs_by_provider[provider["id"]]:
            if doc["created_at"].date() <= day:
                current[doc["doc_type"]] = doc   # versions are in upload order
        problems = []
        for doc_type in (REGISTRATION_DOC[provider["org_type"]], *REQUIRED_EXTRA):
            doc = current.get(doc_type)
            if doc is None:
                problems.append((None, doc_type, f"机构缺少{DOC_LABELS[doc_type]}"))
            elif doc["verification_status"] == "rejected" and doc["verified_at"].date() <= day:
                problems.append((doc, doc_type, f"机构{DOC_LABELS[doc_type]}(编号 {doc['number']})未通过审核核验"))
            elif doc["expiry_date"] is not None and doc["expiry_date"] < day:
                problems.append((doc, doc_type, f"机构{DOC_LABELS[doc_type]}(编号 {doc['number']})已于"
                                                f"{doc['expiry_date'].isoformat()}过期"))
        return problems

    # ---------------------------------------------------------------- projects

    def plan_projects(self):
        from registry.projects.services import subject_word
        r = self.rng
        mean = self.n["projects"] / self.n["providers"]
        self.projects_by_provider = defaultdict(list)
        self.project_by_id = {}
        for p in self.providers:
            n_projects = max(1, min(10, round(r.gauss(mean, 1.2))))
            cap = self.rules[p["city"]["id"]]["price_cap"]
            titles = set()
            for _ in range(n_projects):
                for _attempt in range(8):
                    category = p["category"] if r.random() < 0.7 else self.weighted(words.CATEGORY_WEIGHTS.items())
                    title, bits, level, qual = r.choice(words.PROJECTS[category])
                    if title not in titles:
                        break
                if title in titles:
                    continue
                titles.add(title)
                if r.random() < 0.2:
                    bits |= r.choice((1, 2, 4))
                created = self.ts(self.day_between(p["created"].date(), AS_OF - timedelta(days=2)))
                price = Decimal("0.00") if r.random() < 0.1 else \
                    (Decimal(r.randint(2, int(cap * 2))) / 2).quantize(Decimal("0.01"))
                class_min = r.randint(6, 15)
                jid = self.next_id("project")
                description = (f"{title}:面向{'、'.join(lbl for bit, _v, lbl in STAGES if bits & bit)}学生的"
                               f"{CATEGORY_LABELS[category]}类兴趣活动,寓教于乐,注重安全与参与,培养兴趣与合作能力。")
                syllabus = "共{n}次课:认识与体验、基础技能、分组练习、综合运用、成果展示。".format(
                    n=r.choice((12, 16, 20, 24)))
                for text in (title, description, syllabus):
                    assert subject_word(text) is None, text
                project = {"id": jid, "provider": p, "title": title, "category": category, "mask": bits,
                           "level": level, "qual": qual, "price": price, "created": created, "staff": [],
                           "class_min": class_min, "class_max": class_min + r.randint(10, 35),
                           "sessions": r.choice((12, 16, 16, 20, 24, 32)), "minutes": r.choice((40, 45, 60, 60, 90)),
                           "description": description, "syllabus": syllabus,
                           "archived": self.ts(self.day_between(created.date(), AS_OF - timedelta(days=1)))
                           if r.random() < 0.03 else None}
                self.projects_by_provider[p["id"]].append(project)
                self.project_by_id[jid] = project

    def projects(self):
        r = self.rng
        rows, staff_rows = [], []
        for p in self.providers:
            people = [x for x in self.people_by_provider[p["id"]] if x.archived is None]
            for project in self.projects_by_provider[p["id"]]:
                fitting = [x for x in people if any(q[1] == project["qual"] for q in x.quals)]
                others = [x for x in people if x not in fitting and x.role != "manager"]
                chosen = r.sample(fitting, min(len(fitting), r.choices((1, 2, 3), (35, 40, 25))[0]))
                if others and r.random() < 0.3:
                    chosen.append(r.choice(others))   # an assistant without the qualification
                project["staff"] = chosen
                rows.append({"id": project["id"], "provider_id": p["id"], "title": project["title"],
                             "category": project["category"], "stages_mask": project["mask"], "level": project["level"],
                             "description": project["description"], "syllabus": project["syllabus"],
                             "sessions_per_term": project["sessions"], "minutes_per_session": project["minutes"],
                             "class_min": project["class_min"], "class_max": project["class_max"],
                             "price": project["price"], "venue_needs": "普通教室或活动场地,需要多媒体设备",
                             "safety_measures": "课前安全教育,全程专人看护,配备应急药箱,活动场地提前检查。",
                             "required_qualification": project["qual"], "archived_at": project["archived"],
                             "created_at": project["created"]})
                self.event(project["created"], "project.create", "project", project["id"], p["admin"],
                           {"provider_id": p["id"], "price": str(project["price"])})
                for person in chosen:
                    if any(starts <= AS_OF for starts, _ in self.bans.get(person.bidx, ())):
                        continue  # the sweep that banned them took them off every project
                    staff_rows.append({"id": self.next_id("project_staff"), "project_id": project["id"],
                                       "person_id": person.id})
        self.insert("project", rows)
        self.insert("project_staff", staff_rows)

    # ---------------------------------------------------------------- applications, batches, objections

    def _snapshot(self, app_id, p, projects, day):
        """What applications.build_snapshot freezes, from the generated records as they were on `day`."""
        current = {}
        for doc in self.docs_by_provider[p["id"]]:
            if doc["created_at"].date() <= day:
                key = doc["doc_type"] if doc["doc_type"] != "other" else ("other", doc["title"])
                current[key] = doc
        documents = [{"id": d["id"], "doc_type": d["doc_type"], "label": DOC_LABELS[d["doc_type"]], "title": d["title"],
                      "number": d["number"], "issuer": d["issuer"], "issue_date": d["issue_date"].isoformat(),
                      "expiry_date": d["expiry_date"].isoformat() if d["expiry_date"] else None, "sha256": d["sha256"],
                      "file_id": d["file_id"], "file_name": f"{d['title']}.pdf",
                      "verification_status": (d["verification_status"]
                                              if (d["verified_at"] and d["verified_at"].date() <= day)
                                              else "pending")}
                     for d in sorted(current.values(), key=lambda d: (d["doc_type"], d["id"]))]
        people_ids, out_projects = [], []
        for project in projects:
            staff_ids = [s.id for s in project["staff"]]
            people_ids += [i for i in staff_ids if i not in people_ids]
            stages = [(v, lbl) for bit, v, lbl in STAGES if project["mask"] & bit]
            out_projects.append({
                "id": project["id"], "title": project["title"], "category": project["category"],
                "category_label": CATEGORY_LABELS[project["category"]], "stages": [v for v, _ in stages],
                "stage_labels": [lbl for _, lbl in stages], "level": project["level"],
                "level_label": LEVEL_LABELS[project["level"]], "description": project["description"],
                "syllabus": project["syllabus"], "sessions_per_term": project["sessions"],
                "minutes_per_session": project["minutes"], "class_min": project["class_min"],
                "class_max": project["class_max"], "price": str(project["price"]),
                "venue_needs": "普通教室或活动场地,需要多媒体设备",
                "safety_measures": "课前安全教育,全程专人看护,配备应急药箱,活动场地提前检查。",
                "required_qualification": project["qual"], "required_qualification_label": QUAL_LABELS[project["qual"]],
                "staff_ids": staff_ids})
        by_id = {x.id: x for x in self.people_by_provider[p["id"]]}
        staff = []
        for pid in people_ids:
            x = by_id[pid]
            staff.append({
                "id": x.id, "name": x.name, "id_masked": x.masked, "gender": "男" if x.gender == "male" else "女",
                "phone": x.phone, "staff_role": STAFF_ROLE_LABELS[x.role], "specialties": x.specialties,
                "checks": [{"id": c[0], "check_type": c[1], "label": CHECK_LABELS[c[1]], "result": c[2],
                            "check_date": c[3].isoformat(), "valid_until": c[4].isoformat() if c[4] else None,
                            "authority": "", "reference_no": "", "file_id": None}
                           for c in sorted(x.checks, key=lambda c: (c[3], c[0]), reverse=True) if c[5].date() <= day],
                "qualifications": [{"id": q[0], "qual_type": q[1], "label": QUAL_LABELS[q[1]], "name": q[2],
                                    "number": q[3], "issuer": q[4], "issue_date": q[5].isoformat(),
                                    "expiry_date": q[6].isoformat() if q[6] else None, "file_id": None}
                                   for q in x.quals],
                "consent": {"date": x.consent[1].isoformat(), "file_id": x.consent[2]} if x.consent else None,
                "cleared": self.cleared(x, day), "clearance_reasons": self.clearance_reasons(x, day)})
        return {
            "organisation": {
                "id": p["id"], "name": p["name"], "uscc": p["uscc"], "org_type": p["org_type"],
                "org_type_label": ORG_TYPE_LABELS[p["org_type"]], "legal_representative": p["legal"],
                "contact_name": p["contact"], "contact_phone": p["phone"], "address": p["address"],
                "county": p["county"]["name"], "city": p["city"]["name"],
                "service_counties": [c["name"] for c in p["service"]], "description": p["description"]},
            "documents": documents, "people": staff, "projects": out_projects, "as_of": day.isoformat()}

    def applications(self):
        """Each provider's history of applications, the release batches of every city and their objections."""
        r = self.rng
        self.batch_ids = {}
        batch_rows = []
        for city in self.cities:
            reviewer = self.city_reviewers[city["id"]][0]
            issuer = "赣江新区社会发展局" if city["code"] == "36X100" else f"{city['name']}教育局"
            for year, seq, status, publicity_start, published_on in BATCHES:
                bid = self.next_id("release_batch")
                self.batch_ids[(city["id"], year, seq)] = bid
                days = self.rules[city["id"]]["publicity_working_days"]
                end = None
                if publicity_start:
                    end, counted = publicity_start, 0
                    while counted < days:
                        end += timedelta(days=1)
                        counted += end.weekday() < 5
                created = self.ts((publicity_start or AS_OF - timedelta(days=2)) - timedelta(days=3))
                transitions = [("start_publicity", "draft", "publicity", publicity_start)] if publicity_start else []
                if published_on:
                    transitions.append(("publish", "publicity", "published", published_on))
                batch_rows.append({"id": bid, "city_id": city["id"], "year": year, "seq": seq, "status": status,
                                   "version": 1 + len(transitions), "issuer": issuer,
                                   "publicity_start": publicity_start,
                                   "publicity_end": end, "published_on": published_on, "created_by_id": reviewer,
                                   "created_at": created})
                self.event(created, "release_batch.create", "release_batch", bid, reviewer,
                           {"name": f"{year}年第{seq}批"})
                for action, before, after, day in transitions:
                    self.change("release_batch", bid, action, before, after, self.ts(day), reviewer)
        self.insert("release_batch", batch_rows)

        apps, links, snapshots, comments, items, objections = [], [], [], [], [], []
        self._draft_items = []
        self.approvals = defaultdict(list)   # provider id -> [(kind, batch key, app id, published_on, projects)]
        self.open_app = {}

        def batch_of(p, year, seq):
            return self.batch_ids[(p["city"]["id"], year, seq)]

        def application(p, kind, projects, status, submitted_day, batch=None, decided=None, returned=False,
                        objection=None):
            aid = self.next_id("application")
            city_id = p["city"]["id"]
            county_stage = self.rules[city_id]["county_review_required"]
            county_reviewer = self.county_reviewers[p["county"]["id"]]
            city_reviewer = self.city_reviewers[city_id][0]
            created_day = max(p["created"].date(), (submitted_day or AS_OF) - timedelta(days=r.randint(2, 20)))
            created = self.ts(created_day)
            self.event(created, "application.create", "application", aid, p["admin"],
                       {"kind": kind, "projects": [j["id"] for j in projects]})
            moves = []   # (action, from, to, day, actor, rule)
            if submitted_day:
                route = ("route_county", "county_review") if county_stage else ("route_city", "city_review")
                moves += [("submit", "draft", "submitted", submitted_day, p["admin"], None),
                          (route[0], "submitted", route[1], submitted_day, None, "city_policy")]
            stage_day = lambda k: min(AS_OF - timedelta(days=1), submitted_day + timedelta(days=k))  # noqa: E731
            if returned:
                where = "county_review" if county_stage else "city_review"
                back = stage_day(r.randint(3, 12))
                moves.append(("return", where, "draft", back, county_reviewer if county_stage else city_reviewer, None))
            if status in ("city_review", "publicity", "approved", "rejected_city") and county_stage:
                moves.append(("pass", "county_review", "city_review", stage_day(r.randint(2, 8)), county_reviewer,
                              None))
            if status in ("publicity", "approved", "rejected_objection") and batch:
                moves.append(("start_publicity", "city_review", "publicity", batch[1], city_reviewer, None))
            if status == "approved":
                moves.append(("approve", "publicity", "approved", batch[2], city_reviewer, None))
            if status == "rejected_objection":
                moves.append(("reject", "publicity", "rejected", decided, city_reviewer, None))
            if status == "rejected_city":
                moves.append(("reject", "city_review", "rejected", decided, city_reviewer, None))
            if status == "rejected_county":
                moves.append(("reject", "county_review" if county_stage else "city_review", "rejected", decided,
                              county_reviewer if county_stage else city_reviewer, None))
            if status == "withdrawn":
                moves.append(("withdraw", moves[-1][2] if moves else "draft", "withdrawn", decided, p["admin"], None))
            final = moves[-1][2] if moves else "draft"
            is_open = final in ("draft", "submitted", "county_review", "city_review", "publicity")
            apps.append({"id": aid, "provider_id": p["id"], "kind": kind, "status": final, "version": 1 + len(moves),
                         "city_id": city_id, "county_id": p["county"]["id"],
                         "created_by_id": p["admin"],
                         "submitted_at": self.ts(submitted_day) if submitted_day else None,
                         "submitted_by_id": p["admin"] if submitted_day else None, "created_at": created})
            if is_open:
                self.open_app[p["id"]] = aid
            for project in projects:
                links.append({"id": self.next_id("application_project"), "application_id": aid,
                              "project_id": project["id"]})
            number = 0
            for action, before, after, day, actor, rule in moves:
                when = self.ts(day)
                if action == "submit":
                    number += 1
                    snapshots.append({"id": self.next_id("application_snapshot"), "application_id": aid,
                                      "number": number, "data": self._snapshot(aid, p, projects, day),
                                      "created_at": when, "submitted_by_id": p["admin"]})
                if action == "return":
                    for text in r.sample(words.REVIEW_COMMENTS, r.randint(1, 2)):
                        comments.append({"id": self.next_id("application_comment"), "application_id": aid,
                                         "snapshot_number": number, "item_type": "general", "item_key": "general",
                                         "text": text, "author_id": actor, "created_at": when})
                self.change("application", aid, action, before, after, when, actor, rule=rule)
            if batch:
                item = {"id": self.next_id("batch_item"), "batch_id": batch[0], "application_id": aid,
                        "removed_at": None, "removed_reason": None, "created_at": self.ts(batch[1] - timedelta(days=2))}
                if objection:
                    item["removed_at"] = self.ts(decided)
                    item["removed_reason"] = objection
                items.append(item)
                self.event(item["created_at"], "release_batch.add", "release_batch", batch[0], city_reviewer,
                           {"application_id": aid})
            return aid

        def batch_tuple(p, year, seq):
            _, _, _, publicity_start, published_on = next(b for b in BATCHES if b[:2] == (year, seq))
            return (batch_of(p, year, seq), publicity_start, published_on, (year, seq))

        def submit_before(batch):
            return batch[1] - timedelta(days=r.randint(10, 60))

        def objection_rows(p, aid, batch, status, resolver, text_choice):
            oid = self.next_id("objection")
            filed = self.ts(self.day_between(batch[1], min(batch[1] + timedelta(days=4), AS_OF - timedelta(days=1))))
            row = {"id": oid, "batch_id": batch[0], "application_id": aid, "project_id": None,
                   "name": self.person_name(), "contact": self.mobile(), "content": text_choice, "status": status,
                   "version": 1 if status == "open" else 2, "resolution": None, "resolved_by_id": None,
                   "resolved_at": None, "created_at": filed}
            self.event(filed, "objection.file", "objection", oid, None, {"batch_id": batch[0], "application_id": aid})
            if status != "open":
                resolved = filed + timedelta(days=r.randint(1, 3))
                row.update(resolution=r.choice(words.RESOLUTIONS), resolved_by_id=resolver, resolved_at=resolved)
                self.change("objection", oid, "uphold" if status == "upheld" else "dismiss", "open", status, resolved,
                            resolver, reason=row["resolution"])
            objections.append(row)

        for p in self.providers:
            projects = [j for j in self.projects_by_provider[p["id"]] if j["archived"] is None] or \
                self.projects_by_provider[p["id"]]
            journey = p["journey"]
            resolver = self.city_reviewers[p["city"]["id"]][0]
            first = None
            if journey in ("renewed_2025", "lapsed_2025"):
                first = batch_tuple(p, 2025, 1 if p["created"].date() < date(2025, 8, 1) else 2)
            elif journey == "spring_2026":
                first = batch_tuple(p, 2026, 1)
            elif journey == "fall_2026":
                first = batch_tuple(p, 2026, r.choice((3, 3, 4)) if p["created"].date() <= date(2026, 8, 15) else 4)
            if first is not None:
                admitted = projects if len(projects) <= 2 else r.sample(projects, len(projects) - (r.random() < 0.3))
                submitted = max(p["created"].date() + timedelta(days=3), submit_before(first))
                submitted = min(submitted, first[1] - timedelta(days=3))
                aid = application(p, "admission", admitted, "approved", submitted, first)
                if r.random() < 0.04:
                    objection_rows(p, aid, first, "dismissed", resolver, r.choice(words.OBJECTION_TEXTS))
                self.approvals[p["id"]].append(("admission", first, aid, admitted))
                renew = journey == "renewed_2025" or (journey == "spring_2026" and r.random() < 0.8)
                if renew:
                    second = batch_tuple(p, 2026, 2)
                    aid = application(p, "annual", admitted, "approved", submit_before(second), second)
                    self.approvals[p["id"]].append(("annual", second, aid, admitted))
                else:
                    p["journey"] = "lapsed"
                # Some listed providers have a change application open (a project not yet listed).
                newer = [j for j in projects if j not in admitted]
                if newer and r.random() < 0.5:
                    self._open_application(p, "change", newer, application, batch_tuple, objection_rows)
                elif p["journey"] == "lapsed" and r.random() < 0.3:
                    self._open_application(p, "annual", admitted, application, batch_tuple, objection_rows)
            elif journey == "in_review":
                self._open_application(p, "admission", projects, application, batch_tuple, objection_rows)
            elif journey == "draft":
                returned = r.random() < 0.4
                submitted = self.day_between(p["created"].date() + timedelta(days=3), AS_OF - timedelta(days=15)) \
                    if returned else None
                application(p, "admission", projects, "draft", submitted, returned=returned)
            elif journey == "rejected":
                how = r.choices(("rejected_county", "rejected_city", "rejected_objection"), (40, 35, 25))[0]
                if how == "rejected_objection":
                    batch = batch_tuple(p, r.choice((2025, 2026)), 2)
                    submitted = max(p["created"].date() + timedelta(days=3), submit_before(batch))
                    if submitted > batch[1] - timedelta(days=3):
                        how = "rejected_city"
                if how == "rejected_objection":
                    decided = batch[1] + timedelta(days=5)
                    reason = "公示期异议成立:" + r.choice(words.RESOLUTIONS)
                    aid = application(p, "admission", projects, how, submitted, batch, decided=decided,
                                      objection=reason)
                    objection_rows(p, aid, batch, "upheld", resolver, r.choice(words.OBJECTION_TEXTS))
                else:
                    submitted = self.day_between(p["created"].date() + timedelta(days=3), AS_OF - timedelta(days=20))
                    application(p, "admission", projects, how, submitted,
                                decided=submitted + timedelta(days=r.randint(5, 15)))
            elif journey == "withdrawn":
                submitted = self.day_between(p["created"].date() + timedelta(days=3), AS_OF - timedelta(days=20))
                application(p, "admission", projects, "withdrawn", submitted,
                            decided=submitted + timedelta(days=r.randint(1, 10)))
        for item in self._draft_items:
            item["id"] = self.next_id("batch_item")
            items.append(item)
            self.event(item["created_at"], "release_batch.add", "release_batch", item["batch_id"],
                       self.city_reviewers[self.providers[item.pop("_provider") - 1]["city"]["id"]][0],
                       {"application_id": item["application_id"]})
        self.insert("application", apps)
        self.insert("application_project", links)
        self.insert("application_snapshot", snapshots)
        self.insert("application_comment", comments)
        self.insert("batch_item", items)
        self.insert("objection", objections)

    def _open_application(self, p, kind, projects, application, batch_tuple, objection_rows):
        """An application still in review: every open state, in proportion."""
        r = self.rng
        county_stage = self.rules[p["city"]["id"]]["county_review_required"]
        state = r.choices(("submitted", "county_review", "city_review", "city_review_batched", "publicity", "draft"),
                          (6, 30, 22, 10, 22, 10))[0]
        if not county_stage and state == "county_review":
            state = "city_review"
        if state == "draft":
            application(p, kind, projects, "draft", None)
            return
        if state == "publicity" and p["created"].date() + timedelta(days=1) > date(2026, 11, 10):
            state = "city_review"
        if state == "publicity":
            batch = batch_tuple(p, 2026, 5)
            submitted = self.day_between(max(p["created"].date() + timedelta(days=1), AS_OF - timedelta(days=50)),
                                         batch[1] - timedelta(days=8))
            aid = application(p, kind, projects, "publicity", submitted, batch)
            if r.random() < 0.2:
                objection_rows(p, aid, batch, "open", None, r.choice(words.OBJECTION_TEXTS))
            return
        submitted = self.day_between(max(p["created"].date() + timedelta(days=1), AS_OF - timedelta(days=40)),
                                     AS_OF - timedelta(days=1))
        if state == "submitted":
            # Routing happens in the same request as submission; "submitted" is only ever seen mid-request.
            state = "county_review" if county_stage else "city_review"
        if state == "city_review_batched":
            batch = batch_tuple(p, 2026, 6)
            application(p, kind, projects, "city_review", submitted, None)
            # put into the draft batch of the city (approve in principle)
            aid = self.open_app[p["id"]]
            self._draft_items.append({"id": None, "batch_id": batch[0], "application_id": aid, "removed_at": None,
                                      "removed_reason": None, "created_at": self.ts(AS_OF - timedelta(days=1)),
                                      "_provider": p["id"]})
            return
        application(p, kind, projects, state, submitted)

    # ---------------------------------------------------------------- whitelist entries and what happened to them

    def entries(self):
        r = self.rng
        rows, counties, feed, certificates, actions = [], [], [], [], list(self.pending_actions)
        self.entries_by_county = defaultdict(list)
        self.entry_list = []
        manual_reasons = ("low_satisfaction", "safety_incident", "illegal_fees", "selling", "new_lessons")
        for p in self.providers:
            approvals = self.approvals.get(p["id"])
            if not approvals:
                continue
            reviewer = self.city_reviewers[p["city"]["id"]][0]
            kind, first, first_app, projects = approvals[0]
            renewal = approvals[1] if len(approvals) > 1 else None
            valid_from = first[2]
            valid_until = SCHOOL_YEAR_END[2025] if first[2] <= date(2026, 8, 31) else SCHOOL_YEAR_END[2026]
            batch_id, app_id = first[0], first_app
            if renewal:
                valid_until = _school_year_end(valid_until + timedelta(days=1))
                batch_id, app_id = renewal[1][0], renewal[2]
            certificates.append({"id": self.next_id("certificate"), "provider_id": p["id"],
                                 "token": base64.urlsafe_b64encode(r.randbytes(32)).rstrip(b"=").decode(),
                                 "batch_id": batch_id, "created_at": self.ts(first[2], 9, 10)})
            # What happened to the provider as a whole: delisting, a manual suspension, a warning.
            fate = r.random()
            delisted_on = suspended_on = None
            if valid_until >= AS_OF and fate < 0.025:
                delisted_on = self.day_between(max(valid_from + timedelta(days=20), date(2026, 9, 15)), LAST_SWEEP)
                category = r.choice(manual_reasons)
                actions.append(self._action(p, None, "delisting", category, delisted_on, reviewer,
                                            reason="经核查,该机构存在违规行为,决定移出白名单。"))
                actions.append(self._action(p, None, "ban", category, delisted_on, reviewer,
                                            ends_on=delisted_on.replace(year=delisted_on.year + 3) - timedelta(days=1),
                                            reason="三年内不得再次申报。"))
            elif valid_until >= AS_OF and fate < 0.04:
                suspended_on = self.day_between(date(2026, 9, 20), LAST_SWEEP)
                lift_on = suspended_on + timedelta(days=r.randint(20, 90))
                category = r.choice(manual_reasons)
            elif fate < 0.07:
                actions.append(self._action(p, None, "warning", r.choice(manual_reasons),
                                            self.day_between(valid_from, LAST_SWEEP), reviewer,
                                            reason="约谈提醒,限期整改。"))
            doc_problem_then = self.doc_problems(p, LAST_SWEEP)
            for project in projects:
                eid = self.next_id("entry")
                moves = []
                status, suspended_until, by_rule, status_reason = "active", None, None, None
                feed_rows = [("added", valid_from, None)]
                self.event(self.ts(valid_from, 9, 10), "whitelist_entry.create", "whitelist_entry", eid, reviewer,
                           {"batch_id": first[0],
                            "valid_until": str(SCHOOL_YEAR_END[2025] if valid_from <= date(2026, 8, 31)
                                               else SCHOOL_YEAR_END[2026])})
                if renewal:
                    feed_rows.append(("renewed", renewal[1][2], None))
                    self.event(self.ts(renewal[1][2], 9, 10), "whitelist_entry.renew", "whitelist_entry", eid,
                               reviewer, {"valid_until": valid_until.isoformat()})
                if valid_until < AS_OF:
                    status, status_reason = "expired", "有效期届满"
                    expired_on = valid_until + timedelta(days=1)
                    moves.append(("expire", "active", "expired", expired_on, None, "validity_ended",
                                  "有效期届满未年审"))
                    feed_rows.append(("expired", expired_on, REASON_LABELS["validity_ended"]))
                    actions.append(self._action(p, eid, "expiry", "validity_ended", expired_on, None,
                                                rule="validity_ended",
                                                reason=f"有效期至{valid_until.isoformat()},未完成年审",
                                                evidence={"valid_until": valid_until.isoformat()},
                                                dedupe=f"validity_ended:{eid}:{valid_until.isoformat()}"))
                elif delisted_on:
                    status, status_reason = "delisted", REASON_LABELS[category]
                    moves.append(("delist", "active", "delisted", delisted_on, reviewer, None, REASON_LABELS[category]))
                    feed_rows.append(("delisted", delisted_on, REASON_LABELS[category]))
                elif suspended_on:
                    status, suspended_until, status_reason = "suspended", lift_on, REASON_LABELS[category]
                    moves.append(("suspend", "active", "suspended", suspended_on, reviewer, None,
                                  REASON_LABELS[category]))
                    feed_rows.append(("suspended", suspended_on, REASON_LABELS[category]))
                    actions.append(self._action(p, eid, "suspension", category, suspended_on, reviewer,
                                                lift_on=lift_on, reason="暂停服务,整改后恢复。"))
                elif doc_problem_then:
                    start = max(valid_from + timedelta(days=1),
                                min((d["expiry_date"] + timedelta(days=1)) if d and d["expiry_date"] else LAST_SWEEP
                                    for d, _t, _x in doc_problem_then))
                    start = min(start, LAST_SWEEP)
                    status, by_rule, status_reason = "suspended", "document_expired", REASON_LABELS["document_expired"]
                    moves.append(("suspend", "active", "suspended", start, None, "document_expired", status_reason))
                    feed_rows.append(("suspended", start, status_reason))
                    actions.append(self._action(
                        p, eid, "suspension", "document_expired", start, None, rule="document_expired",
                        reason=";".join(t for _d, _t, t in doc_problem_then) + "。更新材料并经审核核验后自动恢复。",
                        evidence={"documents": [{"id": d["id"], "type": t,
                                                 "expiry": d["expiry_date"].isoformat() if d["expiry_date"] else None}
                                                if d else {"missing": True, "text": x}
                                                for d, t, x in doc_problem_then]},
                        dedupe=f"document_expired:{eid}:{start.isoformat()}"))
                elif not self.covered(project, LAST_SWEEP):
                    start = self.day_between(max(valid_from + timedelta(days=1), LAST_SWEEP - timedelta(days=60)),
                                             LAST_SWEEP)
                    status, by_rule, status_reason = ("suspended", "staff_not_cleared",
                                                      REASON_LABELS["staff_not_cleared"])
                    moves.append(("suspend", "active", "suspended", start, None, "staff_not_cleared", status_reason))
                    feed_rows.append(("suspended", start, status_reason))
                    actions.append(self._action(
                        p, eid, "suspension", "staff_not_cleared", start, None, rule="staff_not_cleared",
                        reason=f"项目“{project['title']}”已没有准入合格的授课人员(查询记录或证书过期)。",
                        evidence={"project_id": project["id"], "as_of": start.isoformat()},
                        dedupe=f"staff_not_cleared:{eid}:{start.isoformat()}"))
                for action, before, after, day, actor, rule, reason in moves:
                    self.change("whitelist_entry", eid, action, before, after,
                                self.ts(day, 17, 19) if rule else self.ts(day),
                                actor, reason=reason, rule=rule)
                rows.append({"id": eid, "provider_id": p["id"], "project_id": project["id"], "city_id": p["city"]["id"],
                             "batch_id": batch_id, "application_id": app_id, "status": status,
                             "version": 1 + len(moves), "valid_from": valid_from, "valid_until": valid_until,
                             "suspended_until": suspended_until, "suspended_by_rule": by_rule,
                             "status_reason": status_reason, "created_at": self.ts(valid_from, 9, 10)})
                for county in p["service"]:
                    counties.append({"id": self.next_id("entry_county"), "entry_id": eid, "county_id": county["id"]})
                for kind_, day, reason in feed_rows:
                    feed.append({"id": self.next_id("change_feed_item"), "kind": kind_, "entry_id": eid,
                                 "city_id": p["city"]["id"], "happened_on": day, "reason_category": reason,
                                 "created_at": self.ts(day, 17, 19)})
                stopped = next((m[3] for m in moves if m[0] in ("suspend", "delist")), None)
                entry = {"id": eid, "provider": p, "project": project, "status": status, "valid_from": valid_from,
                         "valid_until": valid_until, "batch_id": batch_id, "stopped": stopped,
                         "delisted_on": delisted_on, "reason": status_reason}
                self.entry_list.append(entry)
                for county in p["service"]:
                    self.entries_by_county[county["id"]].append(entry)
        # City-review applications put into the draft batches.
        self.insert("whitelist_entry", rows)
        self.insert("entry_county", counties)
        self.insert("change_feed_item", feed)
        self.insert("certificate", certificates)
        self.insert("provider_action", actions)

    def _action(self, p, entry_id, kind, category, day, actor, rule=None, reason="", evidence=None, dedupe=None,
                lift_on=None, ends_on=None):
        when = self.ts(day, 17, 19) if rule else self.ts(day)
        if rule is None:
            self.event(when, f"provider.{kind}", "provider", p["id"], actor, {"reason_category": category})
        return {"id": self.next_id("provider_action"), "provider_id": p["id"], "entry_id": entry_id, "kind": kind,
                "reason_category": category, "reason": reason, "effective_on": day, "lift_on": lift_on,
                "ends_on": ends_on, "rule": rule, "evidence": evidence or {}, "actor_id": actor,
                "dedupe_key": dedupe, "created_at": when}

    # ---------------------------------------------------------------- schools' own projects and orders

    def school_projects(self):
        r = self.rng
        rows = []
        self.own_count = {}
        for s in self.schools:
            for term in (CURRENT_TERM, NEXT_TERM):
                k = r.randint(10, 14)
                self.own_count[(s["id"], term)] = k
                start = self.terms[term][1]
                when = self.ts(min(start - timedelta(days=r.randint(5, 40)), AS_OF - timedelta(days=1)))
                for name, category in r.sample(words.OWN_PROJECTS, k):
                    rows.append({"id": self.next_id("school_project"), "school_id": s["id"], "term_id": term,
                                 "name": name, "category": category, "teacher": self.person_name(), "created_at": when})
        self.insert("school_project", rows)

    def orders(self):
        """About 17 orders per school over four terms; each state in proportion, consistent with the entries."""
        r = self.rng
        per_school = self.n["orders"] / self.n["schools"]
        shares = {1: 0.27, 2: 0.27, 3: 0.30, 4: 0.16}
        order_rows, staff_rows = [], []
        self.served = []
        total = 0
        slots = ("16:30-17:30", "16:00-17:00", "17:00-18:00", "15:40-16:40", "16:20-17:50")
        venues = ("学校活动室", "学校操场", "多功能厅", "美术教室", "音乐教室", "体育馆", "科学实验室", "图书馆")
        eligible_for = {}

        def eligible_entries(county_id, mask, term, starts):
            key = (county_id, mask, term)
            if key not in eligible_for:
                ordered_by = starts + timedelta(days=40)
                eligible_for[key] = [
                    e for e in self.entries_by_county[county_id] if e["project"]["mask"] & mask
                    and e["valid_from"] <= ordered_by and e["valid_until"] >= starts
                    and (e["delisted_on"] is None or e["delisted_on"] > ordered_by)
                    and (term != NEXT_TERM or e["status"] == "active")]
            return eligible_for[key]

        for s in self.schools:
            for term, share in shares.items():
                name, starts, ends = self.terms[term]
                wanted = per_school * share
                n_orders = int(wanted) + (r.random() < wanted - int(wanted))
                eligible = eligible_entries(s["county"]["id"], s["mask"], term, starts)
                if not eligible:
                    continue
                chosen = r.sample(eligible, min(n_orders, len(eligible)))
                if n_orders > len(eligible):   # the same project again, for other grades
                    chosen += r.choices(eligible, k=n_orders - len(eligible))
                cap = self.own_count.get((s["id"], term), 0) * 3 // 7
                live_projects = set()
                for entry in chosen:
                    row, staff = self._order(s, entry, term, starts, ends, cap, live_projects, slots, venues)
                    if row is None:
                        continue
                    order_rows.append(row)
                    staff_rows += staff
                    if row["status"] in ("completed", "active", "suspended"):   # issue 16: evaluated and surveyed
                        self.served.append((row["id"], term, row["status"], row["expected_students"], s["id"],
                                            row["provider_id"], row["project_id"]))
                    if len(order_rows) >= 20000:
                        total += self._flush_orders(order_rows, staff_rows)
                        order_rows, staff_rows = [], []
        total += self._flush_orders(order_rows, staff_rows)

    def _flush_orders(self, order_rows, staff_rows):
        self.sink.insert("service_order", order_rows)
        self.sink.insert("order_staff", staff_rows)
        return len(order_rows)

    def _order(self, s, entry, term, starts, ends, cap, live_projects, slots, venues):
        r = self.rng
        project, p = entry["project"], entry["provider"]
        school_admin, provider_admin = self.school_admin[s["id"]], p["admin"]
        first_day = max(entry["valid_from"] + timedelta(days=1), starts - timedelta(days=25))
        if term == NEXT_TERM:
            created_day = self.day_between(max(entry["valid_from"], AS_OF - timedelta(days=45)),
                                           AS_OF - timedelta(days=1))
        else:
            created_day = self.day_between(first_day, min(starts + timedelta(days=30), AS_OF - timedelta(days=1)))
        if created_day > AS_OF - timedelta(days=1):
            return None, []
        created = self.ts(created_day)
        fits = sorted({g for bit, grades in STAGE_GRADES.items() if project["mask"] & bit & s["mask"] for g in grades})
        if not fits:
            return None, []
        grades = sorted(r.sample(fits, min(len(fits), r.choice((1, 1, 2, 3)))))
        students = r.randint(project["class_min"], project["class_max"])
        sessions = min(project["sessions"], r.choice((12, 16, 16, 20)))
        # The state, by term; live orders respect the third-party share (at most 30% of the school's projects).
        if term in (1, 2):
            status = r.choices(("completed", "declined", "cancelled"), (82, 8, 10))[0]
        elif term == CURRENT_TERM:
            status = r.choices(("live", "requested", "declined", "cancelled"), (80, 6, 8, 6))[0]
        else:
            status = r.choices(("requested", "accepted", "declined", "cancelled"), (65, 25, 6, 4))[0]
        if status in ("live", "requested", "accepted"):
            if project["id"] not in live_projects and len(live_projects) >= cap:
                status = "declined"
            else:
                live_projects.add(project["id"])
        oid = self.next_id("service_order")
        moves = []   # (action, from, to, when, actor, rule, reason)
        accept_day = min(created_day + timedelta(days=r.randint(1, 6)), AS_OF - timedelta(days=1))
        reason = None
        if term == CURRENT_TERM and (status == "requested" or (status == "live" and r.random() < 0.03)):
            # Ordered in the last month; some of the live ones were accepted this week (the sweep activates them).
            created_day = self.day_between(max(entry["valid_from"], AS_OF - timedelta(days=30)),
                                           AS_OF - timedelta(days=8))
            created = self.ts(created_day)
            if status == "live":
                accept_day = self.day_between(max(created_day, LAST_SWEEP) + timedelta(days=1),
                                              AS_OF - timedelta(days=1))
        if status == "declined":
            reason = "该时段授课教师已排满,可改约其他时间。"
            moves.append(("decline", "requested", "declined", accept_day, provider_admin, None, reason))
        elif status == "cancelled":
            reason = "学校调整了课后服务安排"
            moves.append(("cancel", "requested", "cancelled", accept_day, school_admin, None, reason))
        elif status in ("completed", "live", "accepted"):
            moves.append(("accept", "requested", "accepted", accept_day, provider_admin, None, None))
            if status == "completed":
                moves.append(("activate", "accepted", "active", max(starts, accept_day), None, "term_started", None))
                moves.append(("complete", "active", "completed", ends + timedelta(days=1), None, "term_ended", None))
            elif status == "live":
                stopped = entry["stopped"]
                if stopped is not None and stopped <= accept_day:
                    # The entry was already suspended or delisted: the provider could not accept.
                    reason = "该项目目前暂停服务,无法接单。"
                    moves = [("decline", "requested", "declined", accept_day, provider_admin, None, reason)]
                    status = "declined"
                elif accept_day > LAST_SWEEP and accept_day >= starts:
                    status = "accepted"   # the sweep activates it
                else:
                    status = "active"
                    moves.append(("activate", "accepted", "active", max(starts, accept_day + timedelta(days=1)), None,
                                  "term_started", None))
                if status in ("active", "accepted") and stopped is not None:
                    reason = "白名单暂停:" + (entry["reason"] or "")
                    moves.append(("suspend", status, "suspended", stopped, None,
                                  "adjustment" if entry["delisted_on"] else None, reason))
                    status = "suspended"
                    if entry["status"] == "delisted" and r.random() < 0.5:
                        moves.append(("cancel", "suspended", "cancelled", min(stopped + timedelta(days=r.randint(1, 5)),
                                                                             AS_OF - timedelta(days=1)),
                                      school_admin, None, "机构已移出白名单"))
                        status = "cancelled"
            moves = [m for m in moves if m[3] <= AS_OF - timedelta(days=1)] if term != 1 and term != 2 else moves
        unit = project["price"]
        row = {"id": oid, "school_id": s["id"], "entry_id": entry["id"], "project_id": project["id"],
               "provider_id": p["id"], "batch_id": entry["batch_id"], "term_id": term,
               "status": moves[-1][2] if moves else "requested", "version": 1 + len(moves), "grades": grades,
               "classes": "、".join(f"{g}年级兴趣班" for g in grades),
               "weekdays": sorted(r.sample(range(5), r.choice((1, 2)))),
               "time_slot": r.choice(slots), "sessions": sessions, "expected_students": students,
               "venue": r.choice(venues), "price": unit, "class_hours": Decimal(sessions),
               "total": unit * students * sessions, "status_reason": reason, "staff_flagged_at": None,
               "created_by_id": school_admin, "created_at": created}
        self.event(created, "order.create", "order", oid, school_admin,
                   {"entry_id": entry["id"], "price": str(unit), "total": str(row["total"])})
        staff = []
        if any(m[0] == "accept" for m in moves):
            qual = project["qual"]
            pool = [x for x in project["staff"]
                    if self.cleared(x, accept_day) and self.qualified(x, qual, accept_day)] \
                or [x for x in project["staff"]
                    if not any(st <= accept_day for st, _en in self.bans.get(x.bidx, ()))]
            still_on = []
            for person in r.sample(pool, min(len(pool), r.choice((1, 1, 2)))):
                banned = [st for st, _en in self.bans.get(person.bidx, ()) if st >= accept_day]
                removed_at = self.ts(banned[0], 17, 19) if banned else None
                staff.append({"id": self.next_id("order_staff"), "order_id": oid, "person_id": person.id,
                              "removed_at": removed_at, "removed_reason": "人员被列入禁入名单" if removed_at else None})
                if removed_at is None:
                    still_on.append(person)
            live = row["status"] in ("accepted", "active", "suspended")
            if live and any(not (self.cleared(x, LAST_SWEEP) and self.qualified(x, qual, LAST_SWEEP))
                            for x in still_on):
                row["staff_flagged_at"] = self.ts(LAST_SWEEP, 17, 19)
        for action, before, after, day, actor, rule, why in moves:
            self.change("order", oid, action, before, after, self.ts(day) if actor else self.ts(day, 17, 19), actor,
                        reason=why, rule=rule)
        return row, staff

    # ---------------------------------------------------------------- issue 16: evaluations and the parents' survey

    SURVEY_COMMENTS = ("孩子很喜欢，回家常常说起。", "希望下课时间更准时。", "老师很有耐心。", "场地有点小。",
                       "希望增加室内活动的安排。", "孩子收获很大，谢谢老师。", "器材可以再多一些。")

    def quality(self):
        """The schools' evaluations of the orders that ran in the past terms (three in four) and the parents'
        answers, each through its own used code (about 500,000 at full scale: a quarter to a third of the pupils
        of a completed order answer, a few already during the current term). Most projects please; one in
        twenty is liked by about two parents in three, so the term-end step has warnings and delistings to
        record. No standing is recorded: the term-end step (`registry.quality.sweep`) computes the past terms."""
        r = self.rng
        liked = {}
        evaluations, codes, responses = [], [], []
        grades = ("good", "good", "good", "fair", "poor")
        total = 0
        for oid, term, _status, students, school_id, provider_id, project_id in self.served:
            p_ok = liked.setdefault(project_id, 0.62 if r.random() < 0.05 else 0.93)
            _name, starts, ends = self.terms[term]
            if term == CURRENT_TERM:
                if r.random() > 0.3:
                    continue
                answered, first, last = max(1, round(students * 0.05)), AS_OF - timedelta(days=20), AS_OF
            else:
                answered = round(students * r.uniform(0.15, 0.42))
                first, last = ends - timedelta(days=27), ends
                if r.random() < 0.75:
                    overall = "satisfied" if r.random() < p_ok else r.choice(("basic", "dissatisfied"))
                    when = self.ts(self.day_between(first, last))
                    evaluations.append({
                        "id": self.next_id("school_evaluation"), "order_id": oid, "term_id": term,
                        "school_id": school_id, "provider_id": provider_id, "project_id": project_id,
                        "content": r.choice(grades), "punctuality": r.choice(grades), "safety": r.choice(grades),
                        "engagement": r.choice(grades), "overall": overall,
                        "comment": r.choice(self.SURVEY_COMMENTS) if r.random() < 0.3 else "", "no_show_count": None,
                        "updated_at": when, "created_by_id": self.school_admin[school_id], "created_at": when})
            for _ in range(answered):
                cid = self.next_id("survey_code")
                when = self.ts(self.day_between(first, last), 10, 14)
                code = "".join(r.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(16))
                codes.append({"id": cid, "order_id": oid, "code_hash": hashlib.sha256(code.encode()).hexdigest(),
                              "expires_on": ends, "issued_at": when - timedelta(days=3), "used_at": when,
                              "revoked_at": None})
                ok = r.random() < p_ok
                responses.append({
                    "id": self.next_id("survey_response"), "code_id": cid, "order_id": oid, "term_id": term,
                    "project_id": project_id, "provider_id": provider_id,
                    "satisfaction": (r.choice(("satisfied", "satisfied", "basic")) if ok else "dissatisfied"),
                    "interest": r.choice(("high", "high", "some", "none")) if ok else r.choice(("some", "none")),
                    "safety": "safe" if ok or r.random() < 0.5 else "concerned", "extra_fee": r.random() < 0.002,
                    "voluntary": r.random() > 0.002,
                    "comment": r.choice(self.SURVEY_COMMENTS) if r.random() < 0.12 else "", "created_at": when})
            if len(responses) >= 50000:
                total += self._flush_quality(evaluations, codes, responses)
                evaluations, codes, responses = [], [], []
        total += self._flush_quality(evaluations, codes, responses)
        self.log(f"  survey answers: {total}")

    def _flush_quality(self, evaluations, codes, responses):
        self.sink.insert("school_evaluation", evaluations)
        self.sink.insert("survey_code", codes)
        self.sink.insert("survey_response", responses)
        return len(responses)

    # ---------------------------------------------------------------- issue 14: entry passes and gate scans

    def passes(self):
        """A signed pass for each current person on an accepted or active order of the current term, and a
        month of gate scans before AS_OF (about FULL["scans"]): on each scheduled day an entry scan before the
        slot and a leaving scan after it, a few refused, some days missed (未到岗)."""
        from types import SimpleNamespace

        from sqlalchemy import select

        from registry.extensions import db
        from registry.orders.models import Order, OrderStaff, OrderStatus
        from registry.passes import services as passes
        from registry.whitelist.models import WhitelistEntry
        r = self.rng
        _name, starts, ends = self.terms[CURRENT_TERM]
        rows = db.session.execute(
            select(Order.id, Order.school_id, Order.weekdays, Order.time_slot, Order.created_by_id,
                   WhitelistEntry.valid_until, OrderStaff.person_id)
            .join(OrderStaff, OrderStaff.order_id == Order.id).join(WhitelistEntry, WhitelistEntry.id == Order.entry_id)
            .where(Order.term_id == CURRENT_TERM, Order.status.in_([OrderStatus.accepted, OrderStatus.active]),
                   OrderStaff.removed_at.is_(None)).order_by(Order.id, OrderStaff.person_id)).all()
        db.session.remove()
        now, codes, pass_rows, made = NOW, set(), [], []
        for order_id, school_id, weekdays, slot, admin, entry_until, person_id in rows:
            code = None
            while code is None or code in codes:
                code = "".join(r.choice(passes.CODE_ALPHABET) for _ in range(passes.CODE_LENGTH))
            codes.add(code)
            p = SimpleNamespace(id=self.next_id("entry_pass"), code=code, person_id=person_id, order_id=order_id,
                                school_id=school_id, weekdays=list(weekdays), time_slot=slot, valid_from=starts,
                                valid_until=min(ends, entry_until))
            passes.sign_token(p)
            pass_rows.append({"id": p.id, "kind": "order", "code": code, "link_key": f"{r.getrandbits(128):032x}",
                              "person_id": person_id, "school_id": school_id, "order_id": order_id,
                              "weekdays": p.weekdays, "time_slot": slot, "valid_from": starts,
                              "valid_until": p.valid_until, "revoked_at": None, "revoked_reason": None,
                              "token": p.token, "key_id": p.key_id, "issued_by_id": None, "created_at": now})
            made.append((p, admin))
        self.insert("entry_pass", pass_rows)
        days = [AS_OF - timedelta(days=d) for d in range(30, 0, -1)]
        scheduled = sum(1 for p, _a in made for d in days if d.weekday() in p.weekdays and d >= p.valid_from)
        keep = min(0.97, self.n["scans"] / max(1, 2 * scheduled))
        scan_rows = []
        for p, admin in made:
            span = passes.slot_minutes(p.time_slot) or (16 * 60 + 30, 17 * 60 + 30)
            for day in days:
                if day.weekday() not in p.weekdays or day < p.valid_from or r.random() > keep:
                    continue
                base = datetime(day.year, day.month, day.day) - timedelta(hours=8)   # CST midnight, naive UTC
                entered = base + timedelta(minutes=span[0] - r.randint(0, 25), seconds=r.randint(0, 59))
                refused = r.random() < 0.02
                scan_rows.append({"id": self.next_id("gate_scan"), "pass_id": p.id, "school_id": p.school_id,
                                  "user_id": admin, "scanned_at": entered, "scan_day": day,
                                  "result": "denied" if refused else "allowed", "direction": "entry",
                                  "reasons": ["不在入校时段内"] if refused else [], "offline": False,
                                  "offline_result": None, "client_id": None, "received_at": entered})
                if not refused:
                    left = base + timedelta(minutes=span[1] + r.randint(0, 20), seconds=r.randint(0, 59))
                    scan_rows.append({"id": self.next_id("gate_scan"), "pass_id": p.id, "school_id": p.school_id,
                                      "user_id": admin, "scanned_at": left, "scan_day": day, "result": "allowed",
                                      "direction": "leave", "reasons": [], "offline": False, "offline_result": None,
                                      "client_id": None, "received_at": left})
                if len(scan_rows) >= 50000:
                    self.insert("gate_scan", scan_rows)
                    scan_rows = []
        self.insert("gate_scan", scan_rows)

    # ---------------------------------------------------------------- the rest: status history, notices, sweeps

    def notifications_and_runs(self):
        """Status history, the expiry warnings earlier sweeps already sent (so this week's sweep only adds
        new ones), and the runs of the nightly sweep up to LAST_SWEEP."""
        self.insert("status_change", self.status_changes)
        self.status_changes = []
        r = self.rng
        provider_users = defaultdict(list)
        for uid, (username, role) in self.user_info.items():
            if role == "provider_admin":
                provider_users[int(username[1:6])].append(uid)
        horizon = LAST_SWEEP + timedelta(days=30)
        notes, seen = [], set()

        def warn(provider_id, key, ends, text):
            for window in (30, 7):
                if ends <= LAST_SWEEP + timedelta(days=window):
                    for uid in provider_users[provider_id]:
                        dedupe = f"expiry:{key}:{window}"
                        if (uid, dedupe) in seen:
                            continue
                        seen.add((uid, dedupe))
                        notes.append({"id": self.next_id("notification"), "user_id": uid,
                                      "title": f"到期提醒({window}天内)", "body": text, "link": "/provider",
                                      "category": "expiry", "dedupe_key": dedupe,
                                      "read_at": self.ts(LAST_SWEEP + timedelta(days=1)) if r.random() < 0.4 else None,
                                      "created_at": self.ts(LAST_SWEEP, 17, 19)})
        for pid, docs in self.docs_by_provider.items():
            for doc in docs:
                if doc["superseded_at"] is None and doc["expiry_date"] and LAST_SWEEP < doc["expiry_date"] <= horizon \
                        and doc["created_at"].date() <= LAST_SWEEP:
                    warn(pid, f"doc:{doc['id']}", doc["expiry_date"],
                         f"{DOC_LABELS[doc['doc_type']]}(编号 {doc['number']})将于{doc['expiry_date'].isoformat()}到期")
        for pid, people in self.people_by_provider.items():
            max_age = self.rules[self.providers[pid - 1]["city"]["id"]]["check_max_age_days"]
            for x in people:
                if x.archived is not None:
                    continue
                latest = {}
                for c in x.checks:
                    if c[5].date() <= LAST_SWEEP and (c[1] not in latest
                                                      or (c[3], c[0]) > (latest[c[1]][3], latest[c[1]][0])):
                        latest[c[1]] = c
                for c in latest.values():
                    if c[2] != "clear":
                        continue
                    ends = c[3] + timedelta(days=max_age) if c[1] in AGE_LIMITED else c[4]
                    if c[1] in AGE_LIMITED and c[4]:
                        ends = min(ends, c[4])
                    if ends is not None and LAST_SWEEP < ends <= horizon:
                        warn(pid, f"check:{c[0]}", ends,
                             f"{x.name}的{CHECK_LABELS[c[1]]}将于{ends.isoformat()}失效,请及时重新查询")
        self.insert("notification", notes)
        runs = []
        day = date(2026, 9, 1)
        while day <= LAST_SWEEP:
            started = datetime.combine(day - timedelta(days=1), datetime.min.time()) + timedelta(hours=18, minutes=30)
            runs.append({"id": self.next_id("sweep_run"), "as_of": day, "started_at": started,
                         "finished_at": started + timedelta(seconds=r.randint(20, 90)), "summary": {}})
            day += timedelta(days=1)
        self.insert("sweep_run", runs)

    def audit(self):
        """The audit chain: every event above in time order, sampled down or padded with logins to the
        target size, hashed in order exactly as registry.audit.services.record would have."""
        from registry.audit.models import GENESIS_HASH
        from registry.audit.services import compute_hash
        r = self.rng
        target = self.n["audit"]
        events = self.events
        self.events = []
        self.log(f"audit events recorded: {len(events)}, target {target}")
        if len(events) > target:
            keep = sorted(r.sample(range(len(events)), target))
            events = [events[i] for i in keep]
        users = list(self.user_info)
        weights = [30 if self.user_info[u][1] in ("city_reviewer", "county_reviewer") else 1 for u in users]
        while len(events) < target:
            uid = r.choices(users, weights)[0]
            when = datetime(2025, 3, 1, 0, 0) + timedelta(
                seconds=r.randint(0, int((NOW - datetime(2025, 3, 1)).total_seconds())))
            if r.random() < 0.93:
                events.append((when, "login", None, None, uid, {"mfa": False}, "success"))
            else:
                events.append((when, "login", None, None, uid, {"reason": "bad_password"}, "failure"))
        events.sort(key=lambda e: e[0])
        names = self.user_info
        prev = GENESIS_HASH
        seq = 0

        def rows():
            nonlocal prev, seq
            for when, action, object_type, object_id, actor, details, result in events:
                seq += 1
                info = names.get(actor)
                row = {"seq": seq, "created_at": when.replace(microsecond=(seq * 7919) % 1_000_000),
                       "actor_id": actor, "actor_name": info[0] if info else None,
                       "actor_role": info[1] if info else None, "action": action, "object_type": object_type,
                       "object_id": None if object_id is None else str(object_id), "result": result,
                       "ip": f"10.{(actor or 0) >> 8 & 255}.{(actor or 0) & 255}.{seq % 250 + 2}" if actor else None,
                       "details": details or {}}
                digest = compute_hash(prev, row)
                row["prev_hash"], row["hash"] = prev, digest
                prev = digest
                yield row

        self.insert("audit_log", rows())
        self.insert("audit_head", [{"id": 1, "seq": seq, "hash": prev}])


if __name__ == "__main__":
    from bench.dataset import main
    main()
