// Instructors: the exam builder (questions, options, correct answers, points,
// difficulty) and the exam's analytics with two charts in plain SVG.
import { useRoute } from "preact-iso";
import { useState } from "preact/hooks";
import { assessment, need, type ExamDetail, type QuestionCreate } from "../api/client";
import { api, configOf, type Grade } from "../api/contract";
import { BIN_LABELS, LOW_DISCRIMINATION, byDiscrimination, describeSettings, histogram, statistic } from "../exams-logic";
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
                    .filter(([k]) => ["model", "min_items", "max_items", "target_standard_error", "start_ability"].includes(k))
                    .map(([k, v]) => `${k.replaceAll("_", " ")} ${String(v)}`)
                    .join(", ")}
                </p>
              )}
              <h2>Settings</h2>
              <ul class="facts" aria-label="Exam settings">
                {describeSettings(configOf(e), when).map((line) => (
                  <li key={line}>{line}</li>
                ))}
              </ul>
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

type Bar = { label: string; value: number; text: string; flagged?: boolean };

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
          const w = max > 0 ? (Math.max(0, b.value) / max) * width : 0;
          const y = i * row + 4;
          return (
            <g key={b.label}>
              <text x={left - 6} y={y + 16} text-anchor="end" class="axis">
                {b.label}
              </text>
              <rect x={left} y={y} width={Math.max(w, 1)} height={row - 8} rx="3" class={b.flagged ? "bar flagged" : "bar"} />
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
      api.statistics(id),
      need(assessment.GET("/api/v1/exams/{exam_id}/attempts", { params: { path: { exam_id: id }, query: { limit: 100 } } })),
    ]);
    return { exam, stats, attempts: attempts.items };
  }, [id]);
  return (
    <Page title={data.data ? `Analytics: ${data.data.exam.title}` : "Analytics"} wide>
      <Show load={data}>
        {({ exam, stats, attempts }) => {
          // The service's ten bins cover every completed attempt; an older service has
          // none, and then the last 100 attempts make the picture.
          const scores = attempts.filter((a) => a.status === "completed" && a.score != null).map((a) => a.score ?? 0);
          const bins = histogram(stats, scores);
          const numbers = new Map(exam.questions.map((q, i) => [q.id, `Q${i + 1}`]));
          const prompts = new Map(exam.questions.map((q) => [q.id, q]));
          const ranked = byDiscrimination(stats.questions);
          const measured = ranked.filter((r) => typeof r.item.discrimination === "number");
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
                <div>
                  <dt>Reliability (Cronbach's α)</dt>
                  <dd class={typeof stats.reliability_alpha === "number" ? "" : "small"}>{statistic(stats.reliability_alpha)}</dd>
                </div>
              </dl>
              {stats.attempts_completed === 0 ? (
                <Empty>No one has completed this exam yet.</Empty>
              ) : (
                <div class="charts">
                  <BarChart
                    title="Score distribution (completed attempts)"
                    max={Math.max(...bins)}
                    bars={bins.map((count, i) => ({ label: BIN_LABELS[i], value: count, text: String(count) }))}
                  />
                  <BarChart
                    title="Correct answers per question"
                    max={1}
                    bars={stats.questions.map((q) => ({
                      label: numbers.get(q.question_id) ?? "?",
                      value: q.correct_rate ?? 0,
                      text: q.correct_rate == null ? "–" : `${Math.round(q.correct_rate * 100)}%`,
                    }))}
                  />
                  {measured.length > 0 && (
                    <BarChart
                      title={`Discrimination per question, weakest first (below ${LOW_DISCRIMINATION} flagged)`}
                      max={1}
                      bars={measured.map(({ item, low }) => ({
                        label: numbers.get(item.question_id) ?? "?",
                        value: item.discrimination ?? 0,
                        text: `${(item.discrimination ?? 0).toFixed(2)}${low ? " low" : ""}`,
                        flagged: low,
                      }))}
                    />
                  )}
                </div>
              )}
              <h2>Questions by discrimination</h2>
              <p class="meta">
                Discrimination is the point-biserial correlation of a question with the rest of the score: how well it tells
                students who know the material from those who don't. Below {LOW_DISCRIMINATION} a question is worth a second
                look; below 0 it rewards the weaker students.
              </p>
              <div class="table-scroll">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">#</th>
                      <th scope="col">Question</th>
                      <th scope="col">Correct</th>
                      <th scope="col">Discrimination</th>
                      <th scope="col">Answers chosen</th>
                      <th scope="col">Difficulty</th>
                    </tr>
                  </thead>
                  <tbody>
                    {ranked.map(({ item: q, low }) => {
                      const question = prompts.get(q.question_id);
                      return (
                        <tr key={q.question_id} class={low ? "flagged" : ""} data-discrimination={q.discrimination ?? ""}>
                          <td>{numbers.get(q.question_id)}</td>
                          <td>{question?.prompt}</td>
                          <td>{q.correct_rate == null ? "–" : `${Math.round(q.correct_rate * 100)}%`}</td>
                          <td>
                            {statistic(q.discrimination)}
                            {low && <span class="badge warn"> Low discrimination</span>}
                          </td>
                          <td>
                            {q.option_counts
                              ? (question?.options ?? [])
                                  .map((o) => `${o.text}: ${q.option_counts?.[o.id] ?? 0}`)
                                  .join(", ")
                              : "–"}
                          </td>
                          <td>
                            {question?.difficulty ?? "–"}
                            {q.calibrated_difficulty != null ? ` (calibrated ${q.calibrated_difficulty.toFixed(2)})` : ""}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              <Grades examId={exam.id} />
            </>
          );
        }}
      </Show>
    </Page>
  );
}

/** The exam's grades per student, by its `grading` setting, a page at a time. */
function Grades({ examId }: { examId: string }) {
  const [rows, setRows] = useState<Grade[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const first = useLoad(async () => {
    const page = await api.grades(examId);
    setRows(page.items);
    setCursor(page.next_cursor);
    return page;
  }, [examId]);
  const more = useAction(async () => {
    const page = await api.grades(examId, cursor);
    setRows([...rows, ...page.items]);
    setCursor(page.next_cursor);
  });
  return (
    <section aria-labelledby="grades-title">
      <h2 id="grades-title">Grades</h2>
      <Show load={first}>
        {() =>
          rows.length === 0 ? (
            <Empty>No grades yet.</Empty>
          ) : (
            <div class="table-scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Student</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Grade</th>
                    <th scope="col">Passed</th>
                    <th scope="col">Last completed</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((g) => (
                    <tr key={g.user_id}>
                      <td>
                        <code>{g.user_id}</code>
                      </td>
                      <td>{g.attempts}</td>
                      <td>{g.grade == null ? "–" : `${g.grade}%`}</td>
                      <td>{g.passed == null ? "–" : g.passed ? "Yes" : "No"}</td>
                      <td>{when(g.last_completed_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
      <Failure error={more.error} />
      {cursor && (
        <button type="button" class="secondary" disabled={more.busy} onClick={() => more.run()}>
          More grades
        </button>
      )}
    </section>
  );
}
