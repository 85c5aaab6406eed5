// Students: start an exam, take it (fixed: every question at once; adaptive: one at a
// time) against the server's deadline, and read the result with per-question feedback.
import { useLocation, useRoute } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { ApiError, assessment, need, type Attempt, type AttemptQuestion, type ExamDetail } from "../api/client";
import { api, configOf, type MyGrade } from "../api/contract";
import { currentUser } from "../auth";
import { describeSettings, reviewWithheld, sheetHasReview, startBlocked } from "../exams-logic";
import { useStore } from "../store";
import { Empty, Failure, Loading, Page, Show, SignInFirst, useAction, useLoad, when } from "../ui";

/** The student's grade for an exam (CONTRACT.md "Exam settings"); null where the
 * service has none to give (not a student, or an older service). */
function useMyGrade(examId: string | undefined, student: boolean, deps: unknown[] = []) {
  return useLoad(
    async () => (examId && student ? api.myGrade(examId).catch(() => null) : null),
    [examId, student, ...deps],
  ).data;
}

function GradeLine({ grade, grading }: { grade: MyGrade; grading: string | undefined }) {
  if (grade.attempts === 0) return null;
  return (
    <p class="grade" data-grade={grade.grade ?? ""}>
      Your grade: <strong>{grade.grade == null ? "none yet" : `${grade.grade}%`}</strong>
      {grade.passed != null && <> ({grade.passed ? "passed" : "not passed"})</>}, from {grade.attempts} attempt
      {grade.attempts === 1 ? "" : "s"}
      {grade.attempts > 1 && grading ? ` (${grading} counts)` : ""}
      {grade.attempts_left != null && `; ${grade.attempts_left} left`}.
    </p>
  );
}

/** The student's own attempts (GET /api/v1/attempts), newest first, with their exams'
 * titles; `examId` narrows them to one exam. */
async function ownAttempts(examId?: string): Promise<{ attempt: Attempt; title: string }[]> {
  const page = await need(
    assessment.GET("/api/v1/attempts", { params: { query: { exam_id: examId, limit: 50 } } }),
  );
  const titles = new Map<string, Promise<string>>();
  const title = (id: string) => {
    if (!titles.has(id)) {
      titles.set(
        id,
        need(assessment.GET("/api/v1/exams/{exam_id}", { params: { path: { exam_id: id } } })).then(
          (e) => e.title,
          () => "Exam",
        ),
      );
    }
    return titles.get(id)!;
  };
  return Promise.all(page.items.map(async (attempt) => ({ attempt, title: await title(attempt.exam_id) })));
}

export function ExamStart() {
  const { params } = useRoute();
  const id = params.id;
  const user = useStore(currentUser);
  const { route } = useLocation();
  const exam = useLoad(() => need(assessment.GET("/api/v1/exams/{exam_id}", { params: { path: { exam_id: id } } })), [id]);
  const start = useAction(async () => {
    const attempt = await need(assessment.POST("/api/v1/exams/{exam_id}/attempts", { params: { path: { exam_id: id } } }));
    route(`/attempts/${attempt.id}`);
  });
  const mine = useLoad(async () => (user?.role === "STUDENT" ? ownAttempts(id) : []), [id, user?.id]).data ?? [];
  const grade = useMyGrade(id, user?.role === "STUDENT", [user?.id]);
  if (!user) return <Page title="Exam"><SignInFirst path={`/exams/${id}`} /></Page>;
  return (
    <Page title={exam.data?.title ?? "Exam"}>
      <Show load={exam}>
        {(e: ExamDetail) => {
          const settings = configOf(e);
          const open = mine.some(({ attempt }) => attempt.status === "in_progress");
          const blocked = open ? null : startBlocked(settings, grade?.attempts_left, new Date(), when);
          return (
          <>
            <p>
              <a href={`/courses/${e.course_id}`}>← Back to the course</a>
            </p>
            <ul class="facts">
              <li>{Math.round(e.duration_seconds / 60)} minutes from the moment you start</li>
              <li>Pass mark {e.passing_score_percent}%</li>
              <li>
                {e.config?.mode === "adaptive"
                  ? "Adaptive: one question at a time, each chosen from your answers so far"
                  : `${e.question_count} questions, all on one page`}
              </li>
              {describeSettings(settings, when).map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
            {grade && <GradeLine grade={grade} grading={settings.grading} />}
            {user.role !== "STUDENT" && <p>Only students take exams.</p>}
            {blocked && user.role === "STUDENT" && <p class="meta">{blocked}</p>}
            <Failure error={start.error} />
            <button
              type="button"
              disabled={start.busy || user.role !== "STUDENT" || blocked !== null}
              onClick={() => start.run()}
            >
              {open ? "Resume the exam" : mine.length ? "Start another attempt" : "Start the exam"}
            </button>
            {mine.length > 0 && (
              <>
                <h2>Your attempts</h2>
                <AttemptList items={mine} />
              </>
            )}
          </>
          );
        }}
      </Show>
    </Page>
  );
}

function AttemptList({ items }: { items: { attempt: Attempt; title: string }[] }) {
  return (
    <ul class="plain">
      {items.map(({ attempt, title }) => (
        <li key={attempt.id}>
          <a href={`/attempts/${attempt.id}`}>{title}</a>{" "}
          <small>
            started {when(attempt.started_at)}
            {attempt.status === "in_progress" ? ", in progress" : attempt.score != null ? `, score ${attempt.score}%` : `, ${attempt.status}`}
          </small>
        </li>
      ))}
    </ul>
  );
}

export function PastAttempts() {
  const user = useStore(currentUser);
  const items = useLoad(async () => (user ? ownAttempts() : []), [user?.id]);
  if (!user) return <Page title="My attempts"><SignInFirst path="/attempts" /></Page>;
  return (
    <Page title="My attempts">
      <Show load={items}>
        {(list) => (list.length === 0 ? <Empty>You have not taken an exam yet.</Empty> : <AttemptList items={list} />)}
      </Show>
    </Page>
  );
}

export function AttemptView() {
  const { params } = useRoute();
  const id = params.id;
  const attempt = useLoad(() => need(assessment.GET("/api/v1/attempts/{attempt_id}", { params: { path: { attempt_id: id } } })), [id]);
  const exam = useLoad(
    async () =>
      attempt.data ? need(assessment.GET("/api/v1/exams/{exam_id}", { params: { path: { exam_id: attempt.data.exam_id } } })) : null,
    [attempt.data?.exam_id],
  );
  const a = attempt.data;
  const e = exam.data;
  const title = e?.title ?? "Exam";
  if (attempt.error) return <Page title="Exam"><Failure error={attempt.error} /></Page>;
  if (!a || !e) return <Page title="Exam"><Loading /></Page>;
  if (a.status !== "in_progress") return <Result attempt={a} exam={e} />;
  return e.config?.mode === "adaptive" ? (
    <Adaptive title={title} attempt={a} onChange={attempt.set} />
  ) : (
    <Fixed title={title} attempt={a} onChange={attempt.set} />
  );
}

function Countdown({ deadline, onExpired }: { deadline: string; onExpired: () => void }) {
  const end = new Date(deadline).getTime();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const left = Math.max(0, Math.round((end - now) / 1000));
  useEffect(() => {
    if (left === 0) onExpired();
  }, [left === 0]);
  const text = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  return (
    <p class={left < 60 ? "countdown urgent" : "countdown"} role="timer" aria-label={`Time left ${text}`}>
      Time left <strong>{text}</strong>
    </p>
  );
}

function Choices({
  question,
  picked,
  onPick,
}: {
  question: AttemptQuestion;
  picked: string[];
  onPick: (ids: string[]) => void;
}) {
  const single = question.kind === "single_choice";
  return (
    <fieldset class="question">
      <legend>
        <span class="qnum">Question {question.position + 1}.</span> {question.prompt}{" "}
        <small>
          ({question.points} point{question.points === 1 ? "" : "s"}
          {single ? "" : ", choose all that apply"})
        </small>
      </legend>
      {question.options.map((o) => (
        <label class="choice" key={o.id}>
          <input
            type={single ? "radio" : "checkbox"}
            name={`q-${question.question_id}`}
            value={o.id}
            checked={picked.includes(o.id)}
            onChange={(ev) => {
              const on = ev.currentTarget.checked;
              onPick(single ? [o.id] : on ? [...picked, o.id] : picked.filter((p) => p !== o.id));
            }}
          />
          {o.text}
        </label>
      ))}
    </fieldset>
  );
}

function Fixed({ title, attempt, onChange }: { title: string; attempt: Attempt; onChange: (a: Attempt) => void }) {
  const [answers, setAnswers] = useState<Record<string, string[]>>({});
  const submit = useAction(async () => {
    try {
      onChange(
        await need(
          assessment.POST("/api/v1/attempts/{attempt_id}/submit", {
            params: { path: { attempt_id: attempt.id } },
            body: { answers: Object.entries(answers).map(([question_id, option_ids]) => ({ question_id, option_ids })) },
          }),
        ),
      );
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        // Past the deadline: the attempt is closed as expired; show it as it is now.
        onChange(await need(assessment.GET("/api/v1/attempts/{attempt_id}", { params: { path: { attempt_id: attempt.id } } })));
      }
      throw e;
    }
  });
  const answered = Object.values(answers).filter((v) => v.length).length;
  return (
    <Page title={title}>
      <Countdown deadline={attempt.deadline} onExpired={() => void submit.run()} />
      <form
        class="stack"
        onSubmit={(ev) => {
          ev.preventDefault();
          void submit.run();
        }}
      >
        {attempt.questions.map((q) => (
          <Choices
            key={q.question_id}
            question={q}
            picked={answers[q.question_id] ?? []}
            onPick={(ids) => setAnswers({ ...answers, [q.question_id]: ids })}
          />
        ))}
        <p>
          {answered} of {attempt.questions.length} answered.
        </p>
        <Failure error={submit.error} />
        <button type="submit" disabled={submit.busy}>
          {submit.busy ? "Submitting…" : "Submit answers"}
        </button>
      </form>
    </Page>
  );
}

function Adaptive({ title, attempt, onChange }: { title: string; attempt: Attempt; onChange: (a: Attempt) => void }) {
  const answeredIds = new Set(attempt.answer_sheet.filter((s) => s.answer != null).map((s) => s.question_id));
  const initial = [...attempt.questions].reverse().find((q) => !answeredIds.has(q.question_id)) ?? null;
  const [question, setQuestion] = useState<AttemptQuestion | null>(initial);
  const [picked, setPicked] = useState<string[]>([]);
  const [count, setCount] = useState(answeredIds.size);
  const answer = useAction(async () => {
    const result = await need(
      assessment.POST("/api/v1/attempts/{attempt_id}/answers", {
        params: { path: { attempt_id: attempt.id } },
        body: { question_id: question!.question_id, option_ids: picked },
      }),
    );
    setPicked([]);
    setCount(count + 1);
    if (result.next_question) setQuestion(result.next_question);
    else onChange(result.attempt);
  });
  const expire = async () => {
    onChange(await need(assessment.GET("/api/v1/attempts/{attempt_id}", { params: { path: { attempt_id: attempt.id } } })));
  };
  return (
    <Page title={title}>
      <Countdown deadline={attempt.deadline} onExpired={() => void expire()} />
      <p class="meta" aria-live="polite">
        Adaptive exam: question {count + 1}. The next question depends on your answers.
      </p>
      {question ? (
        <form
          class="stack"
          onSubmit={(ev) => {
            ev.preventDefault();
            void answer.run();
          }}
        >
          <Choices key={question.question_id} question={{ ...question, position: count }} picked={picked} onPick={setPicked} />
          <Failure error={answer.error} />
          <button type="submit" disabled={answer.busy || picked.length === 0}>
            {answer.busy ? "Sending…" : "Answer"}
          </button>
        </form>
      ) : (
        <Loading />
      )}
    </Page>
  );
}

function Result({ attempt, exam }: { attempt: Attempt; exam: ExamDetail }) {
  const expired = attempt.status === "expired";
  const user = useStore(currentUser);
  const grade = useMyGrade(exam.id, user?.role === "STUDENT" && attempt.user_id === user.id, [attempt.id]);
  const settings = configOf(exam);
  // The exam's `review` setting decides what the service puts in the answer sheet: show
  // the correct answers and the verdict per question only when they are there.
  const reviewed = sheetHasReview(attempt);
  return (
    <Page title={`Result: ${exam.title}`}>
      <div class={attempt.passed ? "verdict pass" : "verdict fail"} role="status">
        {expired ? (
          <p>
            <strong>Time ran out.</strong> This attempt was closed without a score.
          </p>
        ) : (
          <p>
            <strong>{attempt.passed ? "Passed" : "Not passed"}</strong> with a score of{" "}
            <strong data-score={attempt.score}>{attempt.score}%</strong> (pass mark {exam.passing_score_percent}%).
          </p>
        )}
        <small>
          Started {when(attempt.started_at)}
          {attempt.completed_at ? `, finished ${when(attempt.completed_at)}` : ""}
          {attempt.ability != null ? ` · estimated ability ${attempt.ability.toFixed(2)}` : ""}
        </small>
      </div>
      {grade && <GradeLine grade={grade} grading={settings.grading} />}
      <h2>Your answers</h2>
      {!reviewed && (
        <p class="meta" data-review="withheld">
          {reviewWithheld(settings, when)}
        </p>
      )}
      <ol class="feedback">
        {attempt.answer_sheet.map((s) => {
          const verdict = !reviewed || s.correct == null ? "" : s.correct ? "right" : "wrong";
          const label = s.answer == null ? "Not answered" : verdict === "right" ? "Correct" : verdict === "wrong" ? "Wrong" : "Answered";
          return (
            <li key={s.question_id} class={verdict}>
              <p>
                <strong>{label}</strong>: {s.prompt}{" "}
                <small>
                  ({s.points} point{s.points === 1 ? "" : "s"})
                </small>
              </p>
              <ul class="options">
                {s.options.map((o) => {
                  const chosen = (s.answer ?? []).includes(o.id);
                  const right = reviewed && (s.correct_option_ids ?? []).includes(o.id);
                  return (
                    <li key={o.id} class={right ? "right" : chosen && reviewed ? "wrong" : ""}>
                      {o.text}
                      {chosen && <em> (your answer)</em>}
                      {right && <em> (correct)</em>}
                    </li>
                  );
                })}
              </ul>
            </li>
          );
        })}
      </ol>
      <p>
        <a href={`/courses/${exam.course_id}`}>Back to the course</a> · <a href={`/exams/${exam.id}`}>This exam</a> ·{" "}
        <a href="/attempts">All my attempts</a>
      </p>
    </Page>
  );
}
