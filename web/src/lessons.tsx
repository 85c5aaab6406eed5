// A course's lesson list, shared by the course page (catalogue.tsx) and the course
// editor (teach.tsx): they differ only in where a lesson links to and its badge.
import type { ComponentChildren } from "preact";
import { content, need, type Lesson } from "./api/client";
import { Empty, Show, useLoad } from "./ui";

/** A course's first 100 lessons in their order (neither screen pages further). */
export function useLessons(courseId: string) {
  return useLoad(
    () =>
      need(
        content.GET("/api/v1/courses/{course_id}/lessons", {
          params: { path: { course_id: courseId }, query: { limit: 100 } },
        }),
      ),
    [courseId],
  );
}

/** The numbered list: each lesson links to `href(lesson)`, followed by `after(lesson)`. */
export function LessonList({
  load,
  href,
  after,
}: {
  load: ReturnType<typeof useLessons>;
  href: (lesson: Lesson) => string;
  after: (lesson: Lesson) => ComponentChildren;
}) {
  return (
    <Show load={load}>
      {(l) =>
        l.items.length === 0 ? (
          <Empty>No lessons yet.</Empty>
        ) : (
          <ol class="lessons">
            {l.items.map((lesson) => (
              <li key={lesson.id}>
                <a href={href(lesson)}>{lesson.title}</a>
                {after(lesson)}
              </li>
            ))}
          </ol>
        )
      }
    </Show>
  );
}
