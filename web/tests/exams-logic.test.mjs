// Unit tests of src/exams-logic.ts, compiled by `npm test` into .test-build/ first.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  byDiscrimination,
  describeSettings,
  histogram,
  localToIso,
  reviewWithheld,
  settingsFromForm,
  sheetHasReview,
  startBlocked,
  statistic,
  windowProblem,
} from "../.test-build/exams-logic.js";

const when = (iso) => `at ${iso}`;

test("the editor's fields become the contract's settings keys", () => {
  const settings = settingsFromForm(
    {
      max_attempts: "2",
      grading: "average",
      review: "after_close",
      opens_at: "2030-01-02T09:00",
      closes_at: "",
      shuffle_questions: "on",
    },
    false,
  );
  assert.deepEqual(settings, {
    max_attempts: 2,
    grading: "average",
    review: "after_close",
    opens_at: new Date("2030-01-02T09:00").toISOString(),
    shuffle_questions: true,
  });
  assert.match(settings.opens_at, /Z$/); // RFC 3339 with a zone
});

test("fields left at the defaults send nothing: the exam's config stays as it was", () => {
  assert.deepEqual(settingsFromForm({}, false), {});
  assert.deepEqual(
    settingsFromForm({ max_attempts: "", grading: "highest", review: "after_submit", opens_at: "", closes_at: "" }, false),
    {},
  );
});

test("adaptive exams never send shuffle_questions, which they refuse", () => {
  const settings = settingsFromForm({ shuffle_questions: "on", shuffle_options: "on" }, true);
  assert.deepEqual(settings, { shuffle_options: true });
});

test("a window that closes before it opens is caught", () => {
  assert.equal(windowProblem({ opens_at: "2030-01-02T10:00:00Z", closes_at: "2030-01-02T09:00:00Z" }), "The exam must close after it opens.");
  assert.equal(windowProblem({ opens_at: "2030-01-02T09:00:00Z", closes_at: "2030-01-02T10:00:00Z" }), null);
  assert.equal(localToIso("not a date"), null);
});

test("settings read as sentences", () => {
  const lines = describeSettings(
    { max_attempts: 1, grading: "highest", review: "never", closes_at: "2030-01-01T00:00:00Z", shuffle_options: true },
    when,
  );
  assert.deepEqual(lines, [
    "1 attempt allowed",
    "Correct answers are not shown",
    "Closes at 2030-01-01T00:00:00Z",
    "Options in a different order for each attempt",
  ]);
  assert.deepEqual(describeSettings({}, when), ["Unlimited attempts", "Correct answers are shown once you submit"]);
});

test("a start is blocked outside the window and without attempts left", () => {
  const now = new Date("2030-01-01T12:00:00Z");
  assert.equal(startBlocked({ opens_at: "2030-01-02T00:00:00Z" }, null, now, when), "This exam opens at 2030-01-02T00:00:00Z.");
  assert.equal(startBlocked({ closes_at: "2030-01-01T11:00:00Z" }, null, now, when), "This exam has closed.");
  assert.equal(startBlocked({}, 0, now, when), "You have used every attempt this exam allows.");
  assert.equal(startBlocked({ closes_at: "2030-01-02T00:00:00Z" }, 1, now, when), null);
});

test("a result shows correct answers only when the answer sheet carries them", () => {
  const entry = { question_id: "q", prompt: "?", options: [], answer: ["a"], points: 1 };
  assert.equal(sheetHasReview({ answer_sheet: [{ ...entry, correct: true, correct_option_ids: ["a"] }] }), true);
  assert.equal(sheetHasReview({ answer_sheet: [{ ...entry, correct: null, correct_option_ids: null }] }), false);
  assert.equal(sheetHasReview({ answer_sheet: [entry] }), false); // fields absent
  assert.match(reviewWithheld({ review: "after_close", closes_at: "2030-01-01T00:00:00Z" }, when), /after the exam closes, at 2030/);
  assert.equal(reviewWithheld({ review: "never" }, when), "This exam does not show the correct answers.");
});

test("the histogram comes from the service's ten bins, counts or objects", () => {
  assert.deepEqual(histogram({ score_histogram: [0, 0, 0, 0, 0, 1, 0, 0, 2, 3] }, []), [0, 0, 0, 0, 0, 1, 0, 0, 2, 3]);
  assert.deepEqual(
    histogram({ score_histogram: Array.from({ length: 10 }, (_, i) => ({ count: i })) }, []),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  // Without one (an older service), from the scores at hand; 100 % is in the last bin.
  assert.deepEqual(histogram({}, [0, 9, 10, 95, 100]), [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
});

test("questions are ranked by discrimination, weakest first, the unknown last", () => {
  const ranked = byDiscrimination([
    { question_id: "good", correct_rate: 0.5, discrimination: 0.45 },
    { question_id: "unknown", correct_rate: null, discrimination: null },
    { question_id: "negative", correct_rate: 0.9, discrimination: -0.1 },
    { question_id: "weak", correct_rate: 0.7, discrimination: 0.15 },
    { question_id: "absent", correct_rate: 0.7 },
  ]);
  assert.deepEqual(
    ranked.map((r) => [r.item.question_id, r.low]),
    [
      ["negative", true],
      ["weak", true],
      ["good", false],
      ["unknown", false],
      ["absent", false],
    ],
  );
  assert.equal(statistic(null), "not enough attempts");
  assert.equal(statistic(0.456), "0.46");
});
