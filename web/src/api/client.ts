// One typed client per service, generated from their OpenAPI documents (./*.d.ts), all
// on the same origin under /api/v1. Every request goes through `authFetch`, which adds
// the access token and, on a 401, refreshes once and retries.
import createClient from "openapi-fetch";
import type { paths as IdentityPaths, components as IdentityC } from "./identity";
import type { paths as ContentPaths, components as ContentC } from "./content";
import type { paths as AssessmentPaths, components as AssessmentC } from "./assessment";
import type { paths as NotesPaths, components as NotesC } from "./ai-notes";
import { authFetch } from "../auth";

export type User = IdentityC["schemas"]["UserPublic"];
export type TokenPair = IdentityC["schemas"]["TokenPair"];
export type Course = ContentC["schemas"]["CoursePublic"];
export type Lesson = ContentC["schemas"]["LessonPublic"];
export type Exam = AssessmentC["schemas"]["ExamPublic"];
export type ExamDetail = AssessmentC["schemas"]["ExamDetail"];
export type QuestionCreate = AssessmentC["schemas"]["QuestionCreate"];
export type Attempt = AssessmentC["schemas"]["AttemptPublic"];
export type AttemptQuestion = AssessmentC["schemas"]["AttemptQuestion"];
export type Analytics = AssessmentC["schemas"]["AnalyticsPublic"];
export type AdaptiveConfig = AssessmentC["schemas"]["AdaptiveConfig"];
export type Note = NotesC["schemas"]["NotePublic"];
export type SearchItem = NotesC["schemas"]["SearchItem"];

const options = { baseUrl: "", fetch: authFetch };
export const identity = createClient<IdentityPaths>(options);
export const content = createClient<ContentPaths>(options);
export const assessment = createClient<AssessmentPaths>(options);
export const notes = createClient<NotesPaths>(options);

/** An answer the client shows in plain words: from a problem+json body or the network. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

type Problem = {
  title?: string;
  detail?: unknown;
  errors?: { loc?: (string | number)[]; msg?: string; message?: string; field?: string }[];
};

const PLAIN: Record<number, string> = {
  401: "Please sign in again.",
  403: "You are not allowed to do that.",
  404: "That was not found. It may have been removed, or not published yet.",
  409: "That conflicts with the current state. Reload and try again.",
  413: "That is too large.",
  429: "Too many tries. Wait a minute and try again.",
  503: "The service is busy or starting. Try again in a few seconds.",
};

export function explain(problem: unknown, status: number): string {
  const p = (problem ?? {}) as Problem;
  if (status === 422 && Array.isArray(p.errors) && p.errors.length) {
    return p.errors
      .map((e) => {
        const field = e.field ?? (e.loc ?? []).filter((x) => x !== "body").join(".");
        const msg = e.msg ?? e.message ?? "is not valid";
        return field ? `${field}: ${msg}` : msg;
      })
      .join("; ");
  }
  if (typeof p.detail === "string" && p.detail) return p.detail;
  return PLAIN[status] ?? p.title ?? `Something went wrong (${status}).`;
}

/** The data of an openapi-fetch answer, or an ApiError in plain words. */
export async function need<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let answer: { data?: T; error?: unknown; response: Response };
  try {
    answer = await call;
  } catch {
    throw new ApiError("Cannot reach Edvent. Check your connection and try again.", 0);
  }
  const { data, error, response } = answer;
  if (response.ok) return data as T;
  const retry = Number(response.headers.get("Retry-After"));
  throw new ApiError(explain(error, response.status), response.status, retry > 0 ? retry : null);
}

export function message(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return "Something went wrong. Try again.";
}
