// The plain rules behind the exam screens, without Preact or network, so the unit tests
// (tests/*.test.ts, `npm test`) run them directly: exam settings from the editor's form,
// their description for students, what a result may show, and the item statistics.
import type { Attempt } from "./api/client";
import type { ExamSettings, ExamStatistics, Grading, ItemStats, Review } from "./api/contract";

/** Below this point-biserial a question hardly tells strong students from weak ones
 * (the usual rule of thumb in classical test theory; negative is worse). */
export const LOW_DISCRIMINATION = 0.2;

/** A datetime-local value (the device's time zone) as RFC 3339 in UTC; "" is null. */
export function localToIso(value: string | undefined): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The reverse, for a form's default value. */
export function isoToLocal(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The settings keys of an exam's config from the editor's fields (FormData values;
 * unchecked boxes are missing). Only what differs from the contract's defaults is sent:
 * an exam left at the defaults has the config it always had. Adaptive exams serve one
 * question at a time, so they never get `shuffle_questions` (the service refuses it). */
export function settingsFromForm(v: Record<string, string>, adaptive: boolean): ExamSettings {
  const settings: ExamSettings = {};
  if (v.max_attempts) settings.max_attempts = Number(v.max_attempts);
  if (v.grading && v.grading !== "highest") settings.grading = v.grading as Grading;
  if (v.review && v.review !== "after_submit") settings.review = v.review as Review;
  const opens = localToIso(v.opens_at);
  const closes = localToIso(v.closes_at);
  if (opens) settings.opens_at = opens;
  if (closes) settings.closes_at = closes;
  if (v.shuffle_questions === "on" && !adaptive) settings.shuffle_questions = true;
  if (v.shuffle_options === "on") settings.shuffle_options = true;
  return settings;
}

/** A closing time that is not after the opening time: a mistake worth catching early. */
export function windowProblem(s: ExamSettings): string | null {
  if (s.opens_at && s.closes_at && new Date(s.closes_at) <= new Date(s.opens_at)) {
    return "The exam must close after it opens.";
  }
  return null;
}

const GRADING_WORDS: Record<Grading, string> = {
  highest: "your highest score counts",
  latest: "your latest score counts",
  first: "your first score counts",
  average: "the average of your scores counts",
};

const REVIEW_WORDS: Record<Review, string> = {
  after_submit: "correct answers are shown once you submit",
  after_close: "correct answers are shown once the exam closes",
  never: "correct answers are not shown",
};

/** The settings in plain sentences, for the exam's page and the builder. */
export function describeSettings(s: ExamSettings, when: (iso: string) => string): string[] {
  const lines: string[] = [];
  const max = s.max_attempts ?? null;
  lines.push(max === null ? "Unlimited attempts" : `${max} attempt${max === 1 ? "" : "s"} allowed`);
  if ((max === null || max > 1) && s.grading) lines.push(capitalise(GRADING_WORDS[s.grading]));
  lines.push(capitalise(REVIEW_WORDS[s.review ?? "after_submit"]));
  if (s.opens_at) lines.push(`Opens ${when(s.opens_at)}`);
  if (s.closes_at) lines.push(`Closes ${when(s.closes_at)}`);
  if (s.shuffle_questions) lines.push("Questions in a different order for each attempt");
  if (s.shuffle_options) lines.push("Options in a different order for each attempt");
  return lines;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Whether the exam takes a start now, as far as the client can tell (the service
 * decides): inside its window and with attempts left. */
export function startBlocked(
  s: ExamSettings,
  attemptsLeft: number | null | undefined,
  now: Date,
  when: (iso: string) => string,
): string | null {
  if (s.opens_at && now < new Date(s.opens_at)) return `This exam opens ${when(s.opens_at)}.`;
  if (s.closes_at && now >= new Date(s.closes_at)) return "This exam has closed.";
  if (attemptsLeft === 0) return "You have used every attempt this exam allows.";
  return null;
}

/** Whether the answer sheet says how the attempt was graded: the exam's `review`
 * setting may withhold the correct answers and per-question correctness from students. */
export function sheetHasReview(attempt: Pick<Attempt, "answer_sheet">): boolean {
  return attempt.answer_sheet.some(
    (s) => (s.correct_option_ids ?? null) !== null || (s.correct ?? null) !== null,
  );
}

/** What a student reads instead of the correct answers. */
export function reviewWithheld(s: ExamSettings, when: (iso: string) => string): string {
  if (s.review === "after_close") {
    return s.closes_at
      ? `The correct answers are shown after the exam closes, ${when(s.closes_at)}.`
      : "The correct answers are shown after the exam closes.";
  }
  if (s.review === "never") return "This exam does not show the correct answers.";
  return "The correct answers are not shown for this attempt.";
}

export const BIN_LABELS = Array.from({ length: 10 }, (_, i) => (i === 9 ? "90–100%" : `${i * 10}–${i * 10 + 9}%`));

/** Ten bin counts from the service's `score_histogram`, else from the scores given. */
export function histogram(stats: Pick<ExamStatistics, "score_histogram">, scores: number[]): number[] {
  const given = stats.score_histogram;
  if (Array.isArray(given) && given.length === 10) {
    return given.map((b) => (typeof b === "number" ? b : (b?.count ?? 0)));
  }
  const bins = Array<number>(10).fill(0);
  for (const score of scores) bins[Math.min(9, Math.max(0, Math.floor(score / 10)))] += 1;
  return bins;
}

export type RankedItem = { item: ItemStats; low: boolean };

/** Questions by discrimination, weakest first (they need the author's attention), and
 * those without enough attempts for a value last. */
export function byDiscrimination(items: ItemStats[]): RankedItem[] {
  const value = (i: ItemStats) => (typeof i.discrimination === "number" ? i.discrimination : null);
  return [...items]
    .sort((a, b) => {
      const x = value(a);
      const y = value(b);
      if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1;
      return x - y;
    })
    .map((item) => {
      const d = value(item);
      return { item, low: d !== null && d < LOW_DISCRIMINATION };
    });
}

/** A statistic for people: a number, or why there is none yet. */
export function statistic(value: number | null | undefined, digits = 2): string {
  return typeof value === "number" ? value.toFixed(digits) : "not enough attempts";
}
