// The lesson reader: the sanitised Markdown body, and its AI note beside it. A pending
// note is polled until it is ready, without a reload.
import { useRoute } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { ApiError, content, need, notes, type Note } from "../api/client";
import { currentUser } from "../auth";
import { Markdown } from "../markdown";
import { useStore } from "../store";
import { Empty, Failure, Loading, Page, Show, useLoad } from "../ui";

const POLL_MS = 2000;

export function LessonReader() {
  const { params } = useRoute();
  const id = params.id;
  const lesson = useLoad(() => need(content.GET("/api/v1/lessons/{lesson_id}", { params: { path: { lesson_id: id } } })), [id]);
  const body = useLoad(
    () =>
      need(
        content.GET("/api/v1/lessons/{lesson_id}/content", {
          params: { path: { lesson_id: id } },
          parseAs: "text",
        }),
      ) as Promise<string>,
    [id, lesson.data?.content_sha256],
  );
  const siblings = useLoad(
    async () =>
      lesson.data
        ? need(
            content.GET("/api/v1/courses/{course_id}/lessons", {
              params: { path: { course_id: lesson.data.course_id }, query: { limit: 100 } },
            }),
          )
        : null,
    [lesson.data?.course_id],
  );
  const items = siblings.data?.items ?? [];
  const at = items.findIndex((l) => l.id === id);
  const prev = at > 0 ? items[at - 1] : null;
  const next = at >= 0 && at < items.length - 1 ? items[at + 1] : null;
  return (
    <Page title={lesson.data?.title ?? "Lesson"} wide>
      <Failure error={lesson.error} />
      {lesson.data && (
        <p>
          <a href={`/courses/${lesson.data.course_id}`}>← Back to the course</a>
        </p>
      )}
      <div class="reader">
        <article class="lesson-body" aria-label="Lesson">
          <Show load={body}>{(text) => (text.trim() ? <Markdown source={text} /> : <Empty>This lesson is empty.</Empty>)}</Show>
          <nav class="pager" aria-label="Lessons">
            {prev && <a href={`/lessons/${prev.id}`}>← {prev.title}</a>}
            {next && <a href={`/lessons/${next.id}`}>{next.title} →</a>}
          </nav>
        </article>
        <NotePanel lessonId={id} />
      </div>
    </Page>
  );
}

function NotePanel({ lessonId }: { lessonId: string }) {
  const user = useStore(currentUser);
  const [note, setNote] = useState<Note | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setNote(null);
    setError(null);
    if (!user) return;
    let stopped = false;
    let timer: number | undefined;
    const poll = async () => {
      try {
        const n = await need(notes.GET("/api/v1/notes/{lesson_id}", { params: { path: { lesson_id: lessonId } } }));
        if (stopped) return;
        setNote(n);
        if (n.status === "pending") timer = window.setTimeout(poll, POLL_MS);
      } catch (e) {
        if (stopped) return;
        setError(e);
        // A lesson published a moment ago may not have reached ai-notes yet.
        if (e instanceof ApiError && (e.status === 404 || e.status === 503)) {
          timer = window.setTimeout(poll, POLL_MS * 2);
        }
      }
    };
    void poll();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [lessonId, user?.id]);

  return (
    <aside class="note" aria-labelledby="note-title" aria-live="polite" aria-busy={note?.status === "pending"}>
      <h2 id="note-title">AI note</h2>
      {!user ? (
        <p>
          <a href={`/signin?next=/lessons/${lessonId}`}>Sign in</a> to see this lesson's summary and key concepts.
        </p>
      ) : note === null ? (
        error instanceof ApiError && error.status === 404 ? (
          <Empty>No note yet: the lesson has not been published.</Empty>
        ) : error ? (
          <Failure error={error} />
        ) : (
          <Loading what="Loading the note" />
        )
      ) : note.status === "pending" ? (
        <p class="pending" data-note-status="pending">
          The note is being written. It appears here when ready.
        </p>
      ) : note.status === "failed" ? (
        <p class="failure" data-note-status="failed">
          The note could not be written{note.failure_reason ? `: ${note.failure_reason}` : "."}
        </p>
      ) : (
        <div data-note-status="ready">
          <h3>Summary</h3>
          <Markdown source={note.summary_markdown ?? ""} label="Summary" />
          <h3>Key concepts</h3>
          {note.key_concepts.length === 0 ? (
            <Empty>None found.</Empty>
          ) : (
            <dl class="concepts">
              {note.key_concepts.map((k) => (
                <div key={k.name}>
                  <dt>
                    <a href={`/search?concept=${encodeURIComponent(k.name)}`}>{k.name}</a>
                  </dt>
                  <dd>{k.definition}</dd>
                </div>
              ))}
            </dl>
          )}
          <p class="meta">
            <small>{note.model ? `Written by ${note.model}` : ""}</small>
          </p>
        </div>
      )}
    </aside>
  );
}
