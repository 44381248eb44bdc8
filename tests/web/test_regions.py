"""Regions: the Jiangxi seed (11 cities, 赣江新区, counties of 南昌 and 赣州) and `flask registry import-regions`."""
from sqlalchemy import func, select

from registry.regions import services as regions
from registry.regions.models import Region, RegionLevel

CITIES = {
    "360100": "南昌市", "360200": "景德镇市", "360300": "萍乡市", "360400": "九江市", "360500": "新余市",
    "360600": "鹰潭市", "360700": "赣州市", "360800": "吉安市", "360900": "宜春市", "361000": "抚州市",
    "361100": "上饶市",
}


def region_count(db):
    return db.session.scalar(select(func.count()).select_from(Region))


def test_seed_has_the_cities_and_the_new_area(db, seeded_regions):
    cities = {r.code: r.name for r in regions.cities()}
    assert {code: cities.get(code) for code in CITIES} == CITIES
    assert cities["36X100"] == "赣江新区"
    assert len(cities) == 12
    province = regions.get_by_code("360000")
    assert province.level == RegionLevel.province and province.parent is None
    assert all(regions.get_by_code(code).parent_id == province.id for code in cities)


def test_seed_has_the_counties_of_nanchang_and_ganzhou(db, seeded_regions):
    nanchang = {r.name for r in regions.counties_of(regions.get_by_code("360100").id)}
    ganzhou = {r.name for r in regions.counties_of(regions.get_by_code("360700").id)}
    assert {"东湖区", "西湖区", "青山湖区", "红谷滩区", "南昌县", "进贤县", "安义县"} <= nanchang
    assert {"章贡区", "南康区", "赣县区", "瑞金市", "龙南市", "信丰县"} <= ganzhou
    assert len(ganzhou) >= 18


def test_new_area_code_cannot_collide_with_an_official_code(db, seeded_regions):
    new_area = regions.get_by_code("36X100")
    assert not new_area.code.isdigit()
    assert all(not r.code.isdigit() for r in new_area.children)


def test_seeding_twice_changes_nothing(db, seeded_regions):
    before = region_count(db)
    assert regions.seed_jiangxi() == (0, 0)
    assert region_count(db) == before


def test_covers_walks_up_the_tree(db, seeded_regions):
    nanchang, honggutan, ganzhou = (regions.get_by_code(c) for c in ("360100", "360113", "360700"))
    assert nanchang.covers(honggutan) and honggutan.covers(honggutan)
    assert not ganzhou.covers(honggutan) and not honggutan.covers(nanchang)
    assert honggutan.city.code == "360100"


def run_import(app, tmp_path, content):
    from registry.extensions import db

    db.session.commit()  # what the test set up is saved, as it would be before a CLI run
    path = tmp_path / "regions.csv"
    path.write_text(content, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["registry", "import-regions", str(path)])


def test_import_regions_loads_more(app, db, seeded_regions, tmp_path):
    before = region_count(db)
    result = run_import(app, tmp_path, (
        "code,name,level,parent_code\n"
        "430000,湖南省,province,\n"
        "430100,长沙市,city,430000\n"
        "430102,芙蓉区,county,430100\n"
    ))
    assert result.exit_code == 0, result.output
    assert "regions: 3 created, 0 updated" in result.output
    assert region_count(db) == before + 3
    assert regions.get_by_code("430102").parent.code == "430100"
    # Running it again changes nothing; a renamed entry is an update.
    again = run_import(app, tmp_path, "code,name,level,parent_code\n430100,长沙市,city,430000\n"
                                      "430102,芙蓉区(新),county,430100\n")
    assert again.exit_code == 0 and "0 created, 1 updated" in again.output


def test_import_regions_reports_bad_rows_with_line_numbers(app, db, seeded_regions, tmp_path):
    before = region_count(db)
    result = run_import(app, tmp_path, (
        "code,name,level,parent_code\n"
        "430000,湖南省,province,\n"          # line 2: fine
        "430100,,city,430000\n"              # line 3: no name
        "430102,芙蓉区,district,430100\n"     # line 4: bad level
        "430103,天心区,county,\n"              # line 5: a county without a parent
    ))
    assert result.exit_code != 0
    for line in ("第3行", "第4行", "第5行"):
        assert line in result.output, result.output
    assert "第2行" not in result.output
    assert region_count(db) == before, "a file with bad rows loads nothing"


def test_import_regions_reports_a_missing_parent(app, db, seeded_regions, tmp_path):
    result = run_import(app, tmp_path, "code,name,level,parent_code\n440100,广州市,city,440000\n")
    assert result.exit_code != 0 and "440000" in result.output


def test_import_regions_reports_missing_columns(app, db, tmp_path):
    result = run_import(app, tmp_path, "code,name\n1,x\n")
    assert result.exit_code != 0 and "缺少列" in result.output


def test_regions_api_is_public_and_filters(client, seeded_regions):
    response = client.get("/api/v1/regions", query_string={"level": "county", "parent_code": "360700"})
    assert response.status_code == 200
    body = response.get_json()
    assert body and all(r["parent_code"] == "360700" and r["level"] == "county" for r in body)
    cities = client.get("/api/v1/regions", query_string={"level": "city"}).get_json()
    assert len(cities) == 12
