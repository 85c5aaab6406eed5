// The endpoints and fields of CONTRACT.md that the generated types (./*.d.ts) do not
// describe yet: exam settings and grades, item statistics, the lifecycle of courses and
// lessons, and account management. Written by hand from CONTRACT.md; once every service
// serves them in its OpenAPI document, `npm run generate` brings them into the generated
// types and these can go. Calls go through the same `authFetch` and `need()` as the rest.
import type { Analytics, Course, Exam, Lesson, User } from "./client";
import { need } from "./client";
import { authFetch } from "../auth";

// --- exam settings (CONTRACT.md "Exam settings") ------------------------------------------

export const GRADINGS = ["highest", "latest", "first", "average"] as const;
export const REVIEWS = ["after_submit", "after_close", "never"] as const;
export type Grading = (typeof GRADINGS)[number];
export type Review = (typeof REVIEWS)[number];

export type ExamSettings = {
  max_attempts?: number | null;
  grading?: Grading;
  review?: Review;
  opens_at?: string | null;
  closes_at?: string | null;
  shuffle_questions?: boolean;
  shuffle_options?: boolean;
};

/** An exam's config as the contract describes it: mode, adaptive keys and settings. */
export type ExamConfig = ExamSettings & { mode?: "fixed" | "adaptive"; [key: string]: unknown };

export function configOf(exam: Pick<Exam, "config">): ExamConfig {
  return (exam.config ?? {}) as ExamConfig;
}

/** GET /exams/{id}/grades (owner, ADMIN). */
export type Grade = {
  user_id: string;
  attempts: number;
  grade: number | null;
  passed: boolean | null;
  last_completed_at: string | null;
};

/** GET /exams/{id}/grades/me (STUDENT). */
export type MyGrade = {
  attempts: number;
  attempts_left: number | null;
  grade: number | null;
  passed: boolean | null;
};

// --- item statistics ------------------------------------------------------------------------

export type ItemStats = Analytics["questions"][number] & {
  /** Point-biserial with the rest of the score; null until enough attempts. */
  discrimination?: number | null;
  option_counts?: Record<string, number> | null;
};

export type ExamStatistics = Omit<Analytics, "questions"> & {
  questions: ItemStats[];
  reliability_alpha?: number | null;
  /** Ten bins of scores (0–9 %, …, 90–100 %): counts, or objects carrying a count. */
  score_histogram?: (number | { count: number })[] | null;
};

// --- lifecycle and accounts -----------------------------------------------------------------

export type CourseState = Course & { archived_at?: string | null };
export type AccountUser = User & { email_verified?: boolean; disabled?: boolean };

/** One call outside the generated clients, answered like openapi-fetch answers. */
async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const request = new Request(path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return need<T>(
    authFetch(request).then(async (response) => {
      const text = response.status === 204 ? "" : await response.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return response.ok ? { data: parsed as T, response } : { error: parsed, response };
    }),
  );
}

const id = encodeURIComponent;

export const api = {
  myGrade: (examId: string) => call<MyGrade>("GET", `/api/v1/exams/${id(examId)}/grades/me`),
  grades: (examId: string, cursor?: string | null) =>
    call<{ items: Grade[]; next_cursor: string | null }>(
      "GET",
      `/api/v1/exams/${id(examId)}/grades?limit=100${cursor ? `&cursor=${id(cursor)}` : ""}`,
    ),
  statistics: (examId: string) => call<ExamStatistics>("GET", `/api/v1/exams/${id(examId)}/analytics`),

  unpublishCourse: (courseId: string) => call<CourseState>("POST", `/api/v1/courses/${id(courseId)}/unpublish`),
  archiveCourse: (courseId: string) => call<CourseState>("POST", `/api/v1/courses/${id(courseId)}/archive`),
  unpublishLesson: (lessonId: string) => call<Lesson>("POST", `/api/v1/lessons/${id(lessonId)}/unpublish`),
  deleteLesson: (lessonId: string) => call<void>("DELETE", `/api/v1/lessons/${id(lessonId)}`),

  changePassword: (current_password: string, new_password: string) =>
    call<void>("POST", "/api/v1/auth/password", { current_password, new_password }),
  requestReset: (email: string) => call<void>("POST", "/api/v1/auth/password-reset", { email }),
  confirmReset: (token: string, new_password: string) =>
    call<void>("POST", "/api/v1/auth/password-reset/confirm", { token, new_password }),
  verifyEmail: (token: string) => call<void>("POST", "/api/v1/auth/verify-email", { token }),
  logoutAll: () => call<void>("POST", "/api/v1/auth/logout-all"),
  deleteMe: (password: string) => call<void>("DELETE", "/api/v1/users/me", { password }),
  setDisabled: (userId: string, disabled: boolean) =>
    call<AccountUser>("PATCH", `/api/v1/users/${id(userId)}`, { disabled }),
};

/** GET /users/me/export: the file to save, "pending" while it is being put together
 * (202), or null when this platform has no export (404). */
export async function exportMyData(): Promise<{ blob: Blob; name: string } | "pending" | null> {
  const response = await authFetch(new Request("/api/v1/users/me/export"));
  if (response.status === 404) return null;
  if (response.status === 202) return "pending";
  if (!response.ok) {
    // Let need() turn the problem into words.
    await need(Promise.resolve({ error: await response.json().catch(() => null), response }));
  }
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const named = /filename="?([^";]+)"?/i.exec(disposition)?.[1];
  return { blob: await response.blob(), name: named ?? "edvent-my-data.json" };
}
