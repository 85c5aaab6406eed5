// Everyone: the catalogue, a course with its lessons and exams, and the two searches.
import { useLocation, useRoute } from "preact-iso";
import { useState } from "preact/hooks";
import { assessment, content, need, notes, type Course, type SearchItem } from "../api/client";
import type { CourseState } from "../api/contract";
import { currentUser } from "../auth";
import { LessonList, useLessons } from "../lessons";
import { useStore } from "../store";
import { Empty, Failure, Loading, Page, Show, formValues, useAction, useLoad } from "../ui";

export function Catalogue() {
  const { query } = useLocation();
  const [pages, setPages] = useState<Course[][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const load = useLoad(async () => {
    const page = await need(content.GET("/api/v1/courses", { params: { query: { limit: 20 } } }));
    setPages([page.items]);
    setCursor(page.next_cursor);
    return page;
  }, []);
  const more = useAction(async () => {
    const page = await need(
      content.GET("/api/v1/courses", { params: { query: { limit: 20, cursor: cursor! } } }),
    );
    setPages([...pages, page.items]);
    setCursor(page.next_cursor);
  });
  const courses = pages.flat();
  return (
    <Page title="Courses">
      {query.account === "deleted" && (
        <p role="status" class="done">
          Your account has been deleted.
        </p>
      )}
      <Show load={load}>
        {() =>
          courses.length === 0 ? (
            <Empty>No courses are published yet.</Empty>
          ) : (
            <ul class="cards" aria-label="Courses">
              {courses.map((c) => (
                <li key={c.id} class="card">
                  <h2>
                    <a href={`/courses/${c.id}`}>{c.title}</a>
                  </h2>
                  {!c.is_published && <span class="badge">Draft</span>}
                  <p>{c.description || "No description."}</p>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
      <Failure error={more.error} />
      {cursor && (
        <button type="button" class="secondary" disabled={more.busy} onClick={() => more.run()}>
          {more.busy ? "Loading…" : "More courses"}
        </button>
      )}
    </Page>
  );
}

export function CourseView() {
  const { params } = useRoute();
  const id = params.id;
  const user = useStore(currentUser);
  const course = useLoad(() => need(content.GET("/api/v1/courses/{course_id}", { params: { path: { course_id: id } } })), [id]);
  const lessons = useLessons(id);
  const exams = useLoad(
    async () =>
      user ? need(assessment.GET("/api/v1/exams", { params: { query: { course_id: id, limit: 100 } } })) : null,
    [id, user?.id],
  );
  const owns = course.data && user && (user.role === "ADMIN" || course.data.owner_id === user.id);
  return (
    <Page title={course.data?.title ?? "Course"}>
      <Show load={course}>
        {(c) => (
          <>
            {(c as CourseState).archived_at ? (
              <p class="badge">Archived: only its owner and administrators see it.</p>
            ) : (
              !c.is_published && <p class="badge">Draft: only you can see it.</p>
            )}
            <p class="lead">{c.description}</p>
            {owns && (
              <p>
                <a class="button secondary" href={`/teach/courses/${c.id}`}>
                  Edit this course
                </a>
              </p>
            )}
          </>
        )}
      </Show>
      <h2>Lessons</h2>
      <LessonList
        load={lessons}
        href={(lesson) => `/lessons/${lesson.id}`}
        after={(lesson) => !lesson.published_at && <span class="badge">Draft</span>}
      />
      <h2>Exams</h2>
      {!user ? (
        <p>
          <a href={`/signin?next=/courses/${id}`}>Sign in</a> to take this course's exams.
        </p>
      ) : (
        <Show load={exams}>
          {(e) =>
            !e || e.items.length === 0 ? (
              <Empty>No exams yet.</Empty>
            ) : (
              <ul class="plain">
                {e.items.map((exam) => (
                  <li key={exam.id}>
                    <a href={owns ? `/teach/exams/${exam.id}` : `/exams/${exam.id}`}>{exam.title}</a>{" "}
                    <small>
                      {exam.question_count} questions · {Math.round(exam.duration_seconds / 60)} min
                      {exam.config?.mode === "adaptive" ? " · adaptive" : ""}
                      {exam.status !== "published" ? ` · ${exam.status}` : ""}
                    </small>
                  </li>
                ))}
              </ul>
            )
          }
        </Show>
      )}
      {user && <CourseSearch courseId={id} />}
    </Page>
  );
}

function CourseSearch({ courseId }: { courseId: string }) {
  const [results, setResults] = useState<SearchItem[] | null>(null);
  const [titles, setTitles] = useState<Record<string, string>>({});
  const search = useAction(async (v: Record<string, string>) => {
    const [found, lessons] = await Promise.all([
      need(notes.GET("/api/v1/notes/search", { params: { query: { q: v.q, course_id: courseId } } })),
      need(content.GET("/api/v1/courses/{course_id}/lessons", { params: { path: { course_id: courseId }, query: { limit: 100 } } })),
    ]);
    setTitles(Object.fromEntries(lessons.items.map((l) => [l.id, l.title])));
    setResults(found.items);
  });
  return (
    <section aria-labelledby="course-search">
      <h2 id="course-search">Search this course</h2>
      <form class="inline" role="search" onSubmit={(e) => search.run(formValues(e))}>
        <label class="grow">
          <span class="visually-hidden">Search the lessons</span>
          <input name="q" type="search" placeholder="Ask about a topic" required />
        </label>
        <button type="submit" disabled={search.busy}>
          Search
        </button>
      </form>
      <Failure error={search.error} />
      {search.busy && <Loading what="Searching" />}
      {results &&
        (results.length === 0 ? (
          <Empty>Nothing matches. Try other words.</Empty>
        ) : (
          <ul class="results" aria-label="Search results">
            {results.map((r, i) => (
              <li key={`${r.lesson_id}-${i}`}>
                <a href={`/lessons/${r.lesson_id}`}>{titles[r.lesson_id] ?? "Lesson"}</a>
                <p class="snippet">{r.snippet}</p>
              </li>
            ))}
          </ul>
        ))}
    </section>
  );
}

export function ConceptSearch() {
  const { query, route } = useLocation();
  const user = useStore(currentUser);
  const concept = query.concept ?? "";
  const found = useLoad(async () => {
    if (!concept || !user) return null;
    const list = await need(notes.GET("/api/v1/notes", { params: { query: { concept } } }));
    // Notes carry lesson ids; name each lesson (one the caller may not see is left out).
    const named = await Promise.all(
      list.items.map(async (note) => {
        const lesson = await content
          .GET("/api/v1/lessons/{lesson_id}", { params: { path: { lesson_id: note.lesson_id } } })
          .then((r) => r.data ?? null, () => null);
        return lesson ? { note, title: lesson.title } : null;
      }),
    );
    return named.filter((x) => x !== null);
  }, [concept, user?.id]);
  return (
    <Page title="Find a concept">
      <form
        class="inline"
        role="search"
        onSubmit={(e) => {
          const v = formValues(e);
          route(`/search?concept=${encodeURIComponent(v.concept)}`);
        }}
      >
        <label class="grow">
          <span class="visually-hidden">Concept</span>
          <input name="concept" type="search" defaultValue={concept} placeholder="e.g. recursion" required />
        </label>
        <button type="submit">Find</button>
      </form>
      {!user ? (
        <p>
          <a href="/signin?next=/search">Sign in</a> to search notes across courses.
        </p>
      ) : concept ? (
        <Show load={found}>
          {(list) =>
            !list || list.length === 0 ? (
              <Empty>No lesson's notes name “{concept}” yet.</Empty>
            ) : (
              <ul class="results" aria-label="Lessons with this concept">
                {list.map(({ note: n, title }) => (
                  <li key={n.lesson_id}>
                    <a href={`/lessons/${n.lesson_id}`}>{title}</a>
                    <p class="snippet">
                      {n.key_concepts
                        .filter((k) => k.name.toLowerCase() === concept.toLowerCase())
                        .map((k) => `${k.name}: ${k.definition}`)
                        .join(" ") || (n.summary_markdown ?? "").slice(0, 200)}
                    </p>
                  </li>
                ))}
              </ul>
            )
          }
        </Show>
      ) : null}
    </Page>
  );
}
