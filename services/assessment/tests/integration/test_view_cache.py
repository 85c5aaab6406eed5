"""A student's exam list is answered from memory, never staler than the database, and
never given to any other view (edvent_platform.view_cache)."""

from __future__ import annotations


async def _titles(client, person, course_id) -> list[str] | int:
    response = await client.get(
        "/api/v1/exams", params={"course_id": course_id}, headers=person.auth
    )
    if response.status_code != 200:
        return response.status_code
    return [item["title"] for item in response.json()["items"]]


def _behind_the_triggers_back(sql, title: str) -> None:
    sql("ALTER TABLE assessment.exams DISABLE TRIGGER exams_bump_view_version")
    try:
        sql("UPDATE assessment.exams SET title = %s", (title,))
    finally:
        sql("ALTER TABLE assessment.exams ENABLE TRIGGER exams_bump_view_version")


async def test_students_share_the_list_from_memory_and_no_one_else_gets_it(
    client, factory, people, sql
) -> None:
    course = await factory.course(people.owner)
    await factory.exam(people.owner, course, published=True)
    assert await _titles(client, people.student, course) == ["An exam"]
    # Changed where the cache cannot see it: what each caller gets shows who is answered
    # from memory. Students share one view; an instructor who does not own the course
    # sees the same exams but is read afresh, as are the owner and ADMIN.
    _behind_the_triggers_back(sql, "Changed unseen")
    assert await _titles(client, people.student, course) == ["An exam"]
    assert await _titles(client, people.classmate, course) == ["An exam"]
    for person in (people.other, people.owner, people.admin):
        assert await _titles(client, person, course) == ["Changed unseen"]
    # Without a token the route refuses, as it always did.
    response = await client.get("/api/v1/exams", params={"course_id": course})
    assert response.status_code == 401


async def test_a_published_exam_or_an_archived_course_is_seen_at_once(
    client, factory, people
) -> None:
    course = await factory.course(people.owner)
    await factory.exam(people.owner, course, published=True)
    draft = await factory.exam(people.owner, course)
    assert await _titles(client, people.student, course) == ["An exam"]
    response = await client.post(f"/api/v1/exams/{draft['id']}/publish", headers=people.owner.auth)
    assert response.status_code == 200, response.text
    assert await _titles(client, people.student, course) == ["An exam", "An exam"]
    # content's course.archived, consumed: the exams are hidden from students at once.
    await factory.archive_course(course)
    assert await _titles(client, people.student, course) == []


async def test_a_student_whose_sessions_ended_is_refused_not_answered_from_memory(
    client, factory, people, identity, sql
) -> None:
    course = await factory.course(people.owner)
    await factory.exam(people.owner, course, published=True)
    student = await identity.register("cut-off")
    assert await _titles(client, student, course) == ["An exam"]
    assert await _titles(client, people.student, course) == ["An exam"]
    sql(
        "INSERT INTO assessment.users (id, role, not_before) VALUES (%s, 'STUDENT', now())"
        " ON CONFLICT (id) DO UPDATE SET not_before = now()",
        (student.id,),
    )
    assert await _titles(client, student, course) == 401
    assert await _titles(client, people.student, course) == ["An exam"]
