// Instructors: the exam builder (questions, options, correct answers, points,
// difficulty) and the exam's analytics with two charts in plain SVG.
import { useRoute } from "preact-iso";
import { useState } from "preact/hooks";
import { assessment, need, type ExamDetail, type QuestionCreate } from "../api/client";
import { Empty, Failure, Page, Show, formValues, useAction, useLoad, when } from "../ui";

const LETTERS = "abcdefgh";

export function ExamBuilder() {
  const { params } = useRoute();
  const id = params.id;
  const exam = useLoad(() => need(assessment.GET("/api/v1/exams/{exam_id}", { params: { path: { exam_id: id } } })), [id]);
  const publish = useAction(async () => {
    await need(assessment.POST("/api/v1/exams/{exam_id}/publish", { params: { path: { exam_id: id } } }));
    exam.reload();
  });
  return (
    <Page title={exam.data ? `Exam: ${exam.data.title}` : "Exam"} wide>
      <Show load={exam}>
        {(e: ExamDetail) => {
          const adaptive = e.config?.mode === "adaptive";
          const draft = e.status !== "published";
          return (
            <>
              <p>
                <a href={`/teach/courses/${e.course_id}`}>← Back to the course</a> ·{" "}
                <span class={draft ? "badge" : "badge ok"}>{e.status}</span> · {Math.round(e.duration_seconds / 60)} min · pass
                mark {e.passing_score_percent}%{adaptive ? " · adaptive" : ""}
                {!draft && (
                  <>
                    {" "}
                    · <a href={`/teach/exams/${e.id}/analytics`}>Analytics</a>
                  </>
                )}
              </p>
              {adaptive && (
                <p class="meta">
                  Adaptive settings:{" "}
                  {Object.entries(e.config)
                    .filter(([k]) => k !== "mode")
                    .map(([k, v]) => `${k.replaceAll("_", " ")} ${String(v)}`)
                    .join(", ")}
                </p>
              )}
              <h2>Questions ({e.questions.length})</h2>
              {e.questions.length === 0 ? (
                <Empty>No questions yet. An exam needs at least one to be published.</Empty>
              ) : (
                <ol class="questions">
                  {e.questions.map((q) => (
                    <li key={q.id}>
                      <p>{q.prompt}</p>
                      <ul class="options">
                        {q.options.map((o) => (
                          <li key={o.id} class={q.correct_option_ids?.includes(o.id) ? "right" : ""}>
                            {o.text}
                            {q.correct_option_ids?.includes(o.id) && <span class="visually-hidden"> (correct)</span>}
                          </li>
                        ))}
                      </ul>
                      <small>
                        {q.kind === "single_choice" ? "One answer" : "Several answers"} · {q.points} point
                        {q.points === 1 ? "" : "s"} · difficulty {q.difficulty}
                        {q.discrimination != null ? ` · discrimination ${q.discrimination}` : ""}
                      </small>
                    </li>
                  ))}
                </ol>
              )}
              {draft ? (
                <>
                  <QuestionForm examId={e.id} onAdded={exam.reload} />
                  <Failure error={publish.error} />
                  <button type="button" disabled={publish.busy || e.questions.length === 0} onClick={() => publish.run()}>
                    Publish exam
                  </button>
                </>
              ) : (
                <p>Published {when(e.published_at)}: its questions are frozen.</p>
              )}
            </>
          );
        }}
      </Show>
    </Page>
  );
}

function QuestionForm({ examId, onAdded }: { examId: string; onAdded: () => void }) {
  const [kind, setKind] = useState<"single_choice" | "multiple_choice">("single_choice");
  const [options, setOptions] = useState(["", ""]);
  const [correct, setCorrect] = useState<number[]>([]);
  const [formKey, setFormKey] = useState(0);
  const toggle = (i: number) =>
    setCorrect(kind === "single_choice" ? [i] : correct.includes(i) ? correct.filter((c) => c !== i) : [...correct, i]);
  const add = useAction(async (v: Record<string, string>) => {
    const body: QuestionCreate = {
      prompt: v.prompt,
      kind,
      options: options.map((text, i) => ({ id: LETTERS[i], text })),
      correct_option_ids: correct.map((i) => LETTERS[i]),
      points: Number(v.points),
      difficulty: Number(v.difficulty),
      discrimination: v.discrimination ? Number(v.discrimination) : null,
    };
    await need(assessment.POST("/api/v1/exams/{exam_id}/questions", { params: { path: { exam_id: examId } }, body }));
    setOptions(["", ""]);
    setCorrect([]);
    setFormKey(formKey + 1);
    onAdded();
  });
  return (
    <form class="stack question-form" key={formKey} onSubmit={(e) => add.run(formValues(e))} aria-labelledby="add-question">
      <h3 id="add-question">Add a question</h3>
      <label>
        Question
        <textarea name="prompt" rows={2} required />
      </label>
      <label>
        Kind
        <select
          name="kind"
          value={kind}
          onChange={(e) => {
            setKind(e.currentTarget.value as typeof kind);
            setCorrect([]);
          }}
        >
          <option value="single_choice">One correct answer</option>
          <option value="multiple_choice">Several correct answers</option>
        </select>
      </label>
      <fieldset>
        <legend>Options (tick the correct {kind === "single_choice" ? "one" : "ones"})</legend>
        {options.map((text, i) => (
          <div class="option-row" key={i}>
            <input
              type={kind === "single_choice" ? "radio" : "checkbox"}
              name="correct"
              aria-label={`Option ${i + 1} is correct`}
              checked={correct.includes(i)}
              onChange={() => toggle(i)}
            />
            <label class="grow">
              <span class="visually-hidden">Option {i + 1} text</span>
              <input
                value={text}
                placeholder={`Option ${i + 1}`}
                required
                onInput={(e) => setOptions(options.map((o, j) => (j === i ? e.currentTarget.value : o)))}
              />
            </label>
            {options.length > 2 && (
              <button
                type="button"
                class="link"
                aria-label={`Remove option ${i + 1}`}
                onClick={() => {
                  setOptions(options.filter((_, j) => j !== i));
                  setCorrect(correct.filter((c) => c !== i).map((c) => (c > i ? c - 1 : c)));
                }}
              >
                Remove
              </button>
            )}
          </div>
        ))}
        {options.length < LETTERS.length && (
          <button type="button" class="secondary" onClick={() => setOptions([...options, ""])}>
            Add option
          </button>
        )}
      </fieldset>
      <div class="row">
        <label>
          Points
          <input name="points" type="number" min={1} defaultValue="1" required />
        </label>
        <label>
          Difficulty
          <input name="difficulty" type="number" step="0.1" min={-4} max={4} defaultValue="0" required />
        </label>
        <label>
          Discrimination <small>(2PL, optional)</small>
          <input name="discrimination" type="number" step="0.1" min={0.1} />
        </label>
      </div>
      <Failure error={add.error} />
      <button type="submit" disabled={add.busy || correct.length === 0}>
        Add question
      </button>
    </form>
  );
}

type Bar = { label: string; value: number; text: string };

/** A horizontal bar chart in SVG; values 0..max. Screen readers get the table below. */
function BarChart({ title, bars, max }: { title: string; bars: Bar[]; max: number }) {
  const row = 28;
  const width = 320;
  const left = 90;
  const height = bars.length * row + 8;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width + left + 60} ${height}`} role="img" aria-label={title} width="100%">
        {bars.map((b, i) => {
          const w = max > 0 ? (b.value / max) * width : 0;
          const y = i * row + 4;
          return (
            <g key={b.label}>
              <text x={left - 6} y={y + 16} text-anchor="end" class="axis">
                {b.label}
              </text>
              <rect x={left} y={y} width={Math.max(w, 1)} height={row - 8} rx="3" class="bar" />
              <text x={left + w + 6} y={y + 16} class="axis">
                {b.text}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
  );
}

export function ExamAnalytics() {
  const { params } = useRoute();
  const id = params.id;
  const data = useLoad(async () => {
    const [exam, stats, attempts] = await Promise.all([
      need(assessment.GET("/api/v1/exams/{exam_id}", { params: { path: { exam_id: id } } })),
      need(assessment.GET("/api/v1/exams/{exam_id}/analytics", { params: { path: { exam_id: id } } })),
      need(assessment.GET("/api/v1/exams/{exam_id}/attempts", { params: { path: { exam_id: id }, query: { limit: 100 } } })),
    ]);
    return { exam, stats, attempts: attempts.items };
  }, [id]);
  return (
    <Page title={data.data ? `Analytics: ${data.data.exam.title}` : "Analytics"} wide>
      <Show load={data}>
        {({ exam, stats, attempts }) => {
          const done = attempts.filter((a) => a.status === "completed" && a.score != null);
          const buckets = Array.from({ length: 10 }, (_, i) => ({
            label: i === 9 ? "90–100%" : `${i * 10}–${i * 10 + 9}%`,
            count: done.filter((a) => Math.min(9, Math.floor((a.score ?? 0) / 10)) === i).length,
          }));
          const prompts = Object.fromEntries(exam.questions.map((q, i) => [q.id, `Q${i + 1}`]));
          return (
            <>
              <p>
                <a href={`/teach/exams/${exam.id}`}>← Back to the exam</a>
              </p>
              <dl class="stats">
                <div>
                  <dt>Completed</dt>
                  <dd>{stats.attempts_completed}</dd>
                </div>
                <div>
                  <dt>Expired</dt>
                  <dd>{stats.attempts_expired}</dd>
                </div>
                <div>
                  <dt>Average score</dt>
                  <dd>{stats.average_score == null ? "–" : `${Math.round(stats.average_score)}%`}</dd>
                </div>
                <div>
                  <dt>Pass rate</dt>
                  <dd>{stats.pass_rate == null ? "–" : `${Math.round(stats.pass_rate * 100)}%`}</dd>
                </div>
              </dl>
              {stats.attempts_completed === 0 ? (
                <Empty>No one has completed this exam yet.</Empty>
              ) : (
                <div class="charts">
                  <BarChart
                    title={`Score distribution (last ${done.length} completed attempts)`}
                    max={Math.max(...buckets.map((b) => b.count))}
                    bars={buckets.map((b) => ({ label: b.label, value: b.count, text: String(b.count) }))}
                  />
                  <BarChart
                    title="Correct answers per question"
                    max={1}
                    bars={stats.questions.map((q) => ({
                      label: prompts[q.question_id] ?? "?",
                      value: q.correct_rate ?? 0,
                      text: q.correct_rate == null ? "–" : `${Math.round(q.correct_rate * 100)}%`,
                    }))}
                  />
                </div>
              )}
              <h2>Questions</h2>
              <table>
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">Question</th>
                    <th scope="col">Correct</th>
                    <th scope="col">Difficulty</th>
                  </tr>
                </thead>
                <tbody>
                  {stats.questions.map((q) => (
                    <tr key={q.question_id}>
                      <td>{prompts[q.question_id]}</td>
                      <td>{exam.questions.find((x) => x.id === q.question_id)?.prompt}</td>
                      <td>{q.correct_rate == null ? "–" : `${Math.round(q.correct_rate * 100)}%`}</td>
                      <td>
                        {q.difficulty ?? "–"}
                        {q.calibrated_difficulty != null ? ` (calibrated ${q.calibrated_difficulty.toFixed(2)})` : ""}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          );
        }}
      </Show>
    </Page>
  );
}
