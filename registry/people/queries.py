"""Reads of staff (从业人员) for the pages and the API: one provider's person or 404, and today's clearance of
many people at once. The clearance rules themselves, and the reads other domains call (list_people,
bans_by_index, clearance), stay in services.py beside the writes that share them."""
from registry.core import clock
from registry.core.errors import NotFound
from registry.extensions import db
from registry.people import services
from registry.people.models import Person
from registry.policy import services as policy


def own_person(provider_id, person_id):
    """The person if it belongs to the provider; 404 otherwise (never reveal that it exists)."""
    person = db.session.get(Person, person_id)
    if person is None or person.provider_id != provider_id:
        raise NotFound("人员不存在")
    return person


def own_school_person(school_id, person_id):
    """A person the school engages itself (issue 14) if it is this school's; 404 otherwise."""
    person = db.session.get(Person, person_id)
    if person is None or person.school_id is None or person.school_id != school_id:
        raise NotFound("人员不存在")
    return person


def school_people(school_id, include_archived=False):
    """The people a school engages itself, with their checks, qualifications and consents loaded."""
    return services.list_people(None, include_archived, school_id=school_id)


def school_clearances(school, day=None):
    """[(person, Clearance)] of the school's own people on `day` (bans and rules loaded once)."""
    day = day or clock.today()
    people = school_people(school.id)
    status = clearances(people, school, day)
    return [(p, status[p.id]) for p in people]


def clearances(people, owner, day):
    """{person.id: Clearance} for a list of people of one provider or school, without a query per person."""
    rules = policy.for_region(owner.county)
    bans = services.bans_by_index([p.id_bidx for p in people], day)
    return {p.id: services.clearance(p, day, bans=bans.get(p.id_bidx, []), rules=rules) for p in people}


class ClearanceBook:
    """Clearance of one provider's people on one day: the people, their records and bans loaded once."""

    def __init__(self, provider, day=None):
        self.day = day or clock.today()
        self.rules = policy.for_city(provider.city)
        self.people = services.list_people(provider.id)
        self._bans = services.bans_by_index((p.id_bidx for p in self.people), self.day)
        self._cache = {}

    def of(self, person, qualification=None):
        key = (person.id, qualification)
        if key not in self._cache:
            self._cache[key] = services.clearance(person, self.day, qualification,
                                                bans=self._bans.get(person.id_bidx, []), rules=self.rules)
        return self._cache[key]
