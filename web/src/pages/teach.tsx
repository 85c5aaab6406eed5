// Instructors: their courses, the course editor (lessons, exams, publishing) and the
// lesson editor with a live preview.
import { useLocation, useRoute } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { ApiError, assessment, content, need, type Exam } from "../api/client";
import { GRADINGS, REVIEWS, api, type CourseState } from "../api/contract";
import { currentUser } from "../auth";
import { settingsFromForm, windowProblem } from "../exams-logic";
import { LessonList, useLessons } from "../lessons";
import { Markdown } from "../markdown";
import { useStore } from "../store";
import { ConfirmButton, Empty, Failure, Page, Show, SignInFirst, formValues, useAction, useLoad, when } from "../ui";

/** A course's state in one badge: archived, published or draft. */
function CourseBadge({ course }: { course: CourseState }) {
  if (course.archived_at) return <span class="badge">Archived</span>;
  return <span class={course.is_published ? "badge ok" : "badge"}>{course.is_published ? "Published" : "Draft"}</span>;
}

export function MyCourses() {
  const user = useStore(currentUser);
  const { route } = useLocation();
  const mine = useLoad(
    async () => (user ? need(content.GET("/api/v1/courses", { params: { query: { owner: "me", limit: 100 } } })) : null),
    [user?.id],
  );
  const create = useAction(async (v: Record<string, string>) => {
    const course = await need(content.POST("/api/v1/courses", { body: { title: v.title, description: v.description } }));
    route(`/teach/courses/${course.id}`);
  });
  if (!user) return <Page title="Teach"><SignInFirst path="/teach" /></Page>;
  if (user.role === "STUDENT") {
    return (
      <Page title="Teach">
        <p>Only instructors create courses. Ask an administrator to make you an instructor.</p>
      </Page>
    );
  }
  return (
    <Page title="My courses">
      <Show load={mine}>
        {(list) =>
          !list || list.items.length === 0 ? (
            <Empty>You have no courses yet. Create your first one below.</Empty>
          ) : (
            <ul class="cards" aria-label="My courses">
              {list.items.map((c) => (
                <li key={c.id} class="card">
                  <h2>
                    <a href={`/teach/courses/${c.id}`}>{c.title}</a>
                  </h2>
                  <CourseBadge course={c} />
                </li>
              ))}
            </ul>
          )
        }
      </Show>
      <h2>New course</h2>
      <form class="stack" onSubmit={(e) => create.run(formValues(e))}>
        <label>
          Title
          <input name="title" required maxLength={200} />
        </label>
        <label>
          Description
          <textarea name="description" rows={3} />
        </label>
        <Failure error={create.error} />
        <button type="submit" disabled={create.busy}>
          Create course
        </button>
      </form>
    </Page>
  );
}

export function CourseEditor() {
  const { params } = useRoute();
  const id = params.id;
  const { route } = useLocation();
  const course = useLoad(
    async (): Promise<CourseState> => need(content.GET("/api/v1/courses/{course_id}", { params: { path: { course_id: id } } })),
    [id],
  );
  const lessons = useLessons(id);
  const exams = useLoad(() => need(assessment.GET("/api/v1/exams", { params: { query: { course_id: id, limit: 100 } } })), [id]);

  const save = useAction(async (v: Record<string, string>) => {
    course.set(
      await need(
        content.PATCH("/api/v1/courses/{course_id}", {
          params: { path: { course_id: id } },
          body: { title: v.title, description: v.description },
        }),
      ),
    );
  });
  const publish = useAction(async () => {
    course.set(await need(content.POST("/api/v1/courses/{course_id}/publish", { params: { path: { course_id: id } } })));
  });
  const addLesson = useAction(async (v: Record<string, string>) => {
    const lesson = await need(
      content.POST("/api/v1/courses/{course_id}/lessons", {
        params: { path: { course_id: id } },
        body: { title: v.title, content_markdown: `# ${v.title}\n\n` },
      }),
    );
    route(`/teach/lessons/${lesson.id}`);
  });

  return (
    <Page title={course.data ? `Edit: ${course.data.title}` : "Edit course"} wide>
      <Show load={course}>
        {(c: CourseState) => (
          <>
            <p>
              <a href={`/courses/${c.id}`}>View as a student</a> · <CourseBadge course={c} />
            </p>
            <form class="stack" onSubmit={(e) => save.run(formValues(e))} key={c.id}>
              <label>
                Title
                <input name="title" defaultValue={c.title} required maxLength={200} />
              </label>
              <label>
                Description
                <textarea name="description" rows={3} defaultValue={c.description ?? ""} />
              </label>
              <Failure error={save.error} />
              <div class="row">
                <button type="submit" disabled={save.busy}>
                  Save
                </button>
                {!c.is_published && !c.archived_at && (
                  <button type="button" class="secondary" disabled={publish.busy} onClick={() => publish.run()}>
                    Publish course
                  </button>
                )}
              </div>
              <Failure error={publish.error} />
            </form>
            <div class="row lifecycle">
              {c.is_published && !c.archived_at && (
                <ConfirmButton
                  label="Unpublish course"
                  question="Unpublish this course? Students no longer see it, its lessons or its exams, until you publish it again."
                  confirm="Yes, unpublish"
                  onConfirm={async () => course.set({ ...c, ...(await api.unpublishCourse(c.id)) })}
                />
              )}
              {!c.archived_at && (
                <ConfirmButton
                  label="Archive course"
                  question="Archive this course? Only you and administrators will see it, and its exams take no new attempts. Nothing is deleted."
                  confirm="Yes, archive"
                  onConfirm={async () => course.set({ ...c, ...(await api.archiveCourse(c.id)) })}
                />
              )}
              {c.archived_at && <p class="meta">Archived {when(c.archived_at)}: only you and administrators see it.</p>}
            </div>
          </>
        )}
      </Show>

      <h2>Lessons</h2>
      <LessonList
        load={lessons}
        href={(lesson) => `/teach/lessons/${lesson.id}`}
        after={(lesson) => (
          <>
            {" "}
            <span class={lesson.published_at ? "badge ok" : "badge"}>
              {lesson.published_at ? `Published ${when(lesson.published_at)}` : "Draft"}
            </span>
          </>
        )}
      />
      <form class="inline" onSubmit={(e) => addLesson.run(formValues(e))}>
        <label class="grow">
          New lesson title
          <input name="title" required maxLength={200} />
        </label>
        <button type="submit" disabled={addLesson.busy}>
          Add lesson
        </button>
      </form>
      <Failure error={addLesson.error} />

      <h2>Exams</h2>
      <Show load={exams}>
        {(e) =>
          e.items.length === 0 ? (
            <Empty>No exams yet.</Empty>
          ) : (
            <ul class="plain">
              {e.items.map((exam: Exam) => (
                <li key={exam.id}>
                  <a href={`/teach/exams/${exam.id}`}>{exam.title}</a>{" "}
                  <span class={exam.status === "published" ? "badge ok" : "badge"}>{exam.status}</span>{" "}
                  {exam.config?.mode === "adaptive" && <span class="badge">adaptive</span>}
                </li>
              ))}
            </ul>
          )
        }
      </Show>
      <NewExam courseId={id} />
    </Page>
  );
}

function NewExam({ courseId }: { courseId: string }) {
  const { route } = useLocation();
  const [adaptive, setAdaptive] = useState(false);
  const [waiting, setWaiting] = useState(false);
  const create = useAction(async (v: Record<string, string>) => {
    const config = adaptive
      ? {
          mode: "adaptive" as const,
          model: (v.model || "rasch") as "rasch" | "2pl",
          min_items: Number(v.min_items),
          max_items: Number(v.max_items),
          target_standard_error: Number(v.target_standard_error),
          start_ability: Number(v.start_ability),
        }
      : { mode: "fixed" as const };
    const settings = settingsFromForm(v, adaptive);
    const problem = windowProblem(settings);
    if (problem) throw new ApiError(problem, 422);
    const body = {
      course_id: courseId,
      title: v.title,
      duration_seconds: Math.round(Number(v.minutes) * 60),
      passing_score_percent: Number(v.passing),
      // The generated type wants every adaptive setting and knows no exam settings yet
      // (CONTRACT.md "Exam settings"); the service fills in defaults.
      config: { ...config, ...settings } as never,
    };
    // A course created a moment ago may not have reached assessment yet: it answers 409
    // with Retry-After, so wait and try again a few times.
    for (let tries = 0; ; tries++) {
      try {
        const exam = await need(assessment.POST("/api/v1/exams", { body }));
        route(`/teach/exams/${exam.id}`);
        return;
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 409 && e.retryAfter !== null) || tries >= 10) throw e;
        setWaiting(true);
        await new Promise((r) => setTimeout(r, Math.min(e.retryAfter!, 5) * 1000));
      } finally {
        setWaiting(false);
      }
    }
  });
  return (
    <form class="stack" onSubmit={(e) => create.run(formValues(e))} aria-labelledby="new-exam">
      <h3 id="new-exam">New exam</h3>
      <label>
        Title
        <input name="title" required maxLength={200} />
      </label>
      <div class="row">
        <label>
          Minutes
          <input name="minutes" type="number" min={1} max={600} defaultValue="20" required />
        </label>
        <label>
          Pass mark (%)
          <input name="passing" type="number" min={0} max={100} defaultValue="60" required />
        </label>
      </div>
      <label class="check">
        <input type="checkbox" name="adaptive" checked={adaptive} onChange={(e) => setAdaptive(e.currentTarget.checked)} />
        Adaptive (one question at a time, chosen by item response theory)
      </label>
      {adaptive && (
        <fieldset>
          <legend>Adaptive settings</legend>
          <div class="row">
            <label>
              Model
              <select name="model" defaultValue="rasch">
                <option value="rasch">Rasch (difficulty only)</option>
                <option value="2pl">2PL (difficulty and discrimination)</option>
              </select>
            </label>
            <label>
              Minimum questions
              <input name="min_items" type="number" min={1} defaultValue="3" required />
            </label>
            <label>
              Maximum questions
              <input name="max_items" type="number" min={1} defaultValue="10" required />
            </label>
            <label>
              Target standard error
              <input name="target_standard_error" type="number" step="0.05" min={0.05} defaultValue="0.4" required />
            </label>
            <label>
              Start ability
              <input name="start_ability" type="number" step="0.1" defaultValue="0" required />
            </label>
          </div>
        </fieldset>
      )}
      <fieldset>
        <legend>Settings</legend>
        <div class="row">
          <label>
            Attempts allowed <small>(empty: unlimited)</small>
            <input name="max_attempts" type="number" min={1} step={1} />
          </label>
          <label>
            Grade from
            <select name="grading" defaultValue="highest">
              {GRADINGS.map((g) => (
                <option key={g} value={g}>
                  {{ highest: "The highest score", latest: "The latest score", first: "The first score", average: "The average score" }[g]}
                </option>
              ))}
            </select>
          </label>
          <label>
            Show correct answers
            <select name="review" defaultValue="after_submit">
              {REVIEWS.map((r) => (
                <option key={r} value={r}>
                  {{ after_submit: "After each submit", after_close: "After the exam closes", never: "Never" }[r]}
                </option>
              ))}
            </select>
          </label>
        </div>
        <div class="row">
          <label>
            Opens at <small>(optional)</small>
            <input name="opens_at" type="datetime-local" />
          </label>
          <label>
            Closes at <small>(optional)</small>
            <input name="closes_at" type="datetime-local" />
          </label>
        </div>
        {!adaptive && (
          <label class="check">
            <input type="checkbox" name="shuffle_questions" />
            Shuffle the questions for each attempt
          </label>
        )}
        <label class="check">
          <input type="checkbox" name="shuffle_options" />
          Shuffle the options for each attempt
        </label>
      </fieldset>
      {waiting && <p role="status">The exam service is still hearing about this course; retrying…</p>}
      <Failure error={create.error} />
      <button type="submit" disabled={create.busy}>
        Create exam
      </button>
    </form>
  );
}

export function LessonEditor() {
  const { params } = useRoute();
  const id = params.id;
  const { route } = useLocation();
  const lesson = useLoad(() => need(content.GET("/api/v1/lessons/{lesson_id}", { params: { path: { lesson_id: id } } })), [id]);
  const [text, setText] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  useEffect(() => {
    setText(null);
    need(content.GET("/api/v1/lessons/{lesson_id}/content", { params: { path: { lesson_id: id } }, parseAs: "text" })).then(
      (t) => {
        setText(t as string);
        setSaved(t as string);
      },
      setLoadError,
    );
  }, [id]);
  const persist = async () => {
    lesson.set(
      await need(
        content.PUT("/api/v1/lessons/{lesson_id}/content", {
          params: { path: { lesson_id: id } },
          body: text ?? "",
          bodySerializer: (b: string) => b,
          headers: { "Content-Type": "text/markdown; charset=utf-8" },
        }),
      ),
    );
    setSaved(text);
  };
  const save = useAction(persist);
  const publish = useAction(async () => {
    if (text !== saved) await persist();
    lesson.set(await need(content.POST("/api/v1/lessons/{lesson_id}/publish", { params: { path: { lesson_id: id } } })));
  });
  const l = lesson.data;
  const dirty = text !== null && text !== saved;
  return (
    <Page title={l ? `Lesson: ${l.title}` : "Lesson"} wide>
      {l && (
        <p>
          <a href={`/teach/courses/${l.course_id}`}>← Back to the course</a> · <a href={`/lessons/${l.id}`}>Open in the reader</a> ·{" "}
          <span class={l.published_at ? "badge ok" : "badge"}>{l.published_at ? `Published ${when(l.published_at)}` : "Draft"}</span>
        </p>
      )}
      <Failure error={lesson.error ?? loadError} />
      {text !== null && (
        <div class="editor">
          <label class="stack">
            Markdown
            <textarea class="source" value={text} onInput={(e) => setText(e.currentTarget.value)} rows={20} spellcheck />
          </label>
          <section aria-label="Preview" class="preview">
            <h2 class="visually-hidden">Preview</h2>
            <Markdown source={text} />
          </section>
        </div>
      )}
      <Failure error={save.error ?? publish.error} />
      <div class="row">
        <button type="button" disabled={save.busy || !dirty} onClick={() => save.run()}>
          {save.busy ? "Saving…" : dirty ? "Save" : "Saved"}
        </button>
        <button type="button" class="secondary" disabled={publish.busy || text === null} onClick={() => publish.run()}>
          {l?.published_at && !dirty ? "Publish again" : "Publish"}
        </button>
      </div>
      {l && (
        <div class="row lifecycle">
          {l.published_at && (
            <ConfirmButton
              label="Unpublish lesson"
              question="Unpublish this lesson? Students no longer see it or its AI note until you publish it again."
              confirm="Yes, unpublish"
              onConfirm={async () => lesson.set(await api.unpublishLesson(l.id))}
            />
          )}
          <ConfirmButton
            label="Delete lesson"
            question="Delete this lesson for good? Its text, its AI note and its search entries are removed everywhere."
            confirm="Yes, delete"
            onConfirm={async () => {
              await api.deleteLesson(l.id);
              route(`/teach/courses/${l.course_id}`);
            }}
          />
        </div>
      )}
    </Page>
  );
}
