"""The web client (web/) in a real browser: Debian's Chromium driven by Playwright,
against the platform this session started, through its gateway only.

One browser for the session; each user gets their own context (own storage). Every
main screen gets an axe-core scan (no serious or critical violations) and a screenshot
under tests-e2e/artefacts/web/ (EDVENT_ARTEFACTS moves it).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Platform
from .helpers import PASSWORD, register

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "web"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
ARTEFACTS = Path(os.environ.get("EDVENT_ARTEFACTS", REPO / "tests-e2e" / "artefacts")) / "web"
CHROMIUM = os.environ.get("EDVENT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)
# A JWT (three base64url parts, the first a JSON header) anywhere in a URL.
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")

LESSON_ONE = """# Photosynthesis

Photosynthesis is the process by which green plants turn light into chemical energy.
Chlorophyll absorbs the light. Photosynthesis makes glucose from carbon dioxide and
water, and releases oxygen.

## Chlorophyll

Chlorophyll is the green pigment of the chloroplast. It absorbs red and blue light.
"""
LESSON_TWO = """# Cellular respiration

Cellular respiration is the process by which cells break glucose down to release energy
as ATP. Mitochondria host cellular respiration and consume oxygen.
"""


@pytest.fixture(scope="session")
async def browser(platform: Platform) -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():  # noqa: ASYNC240 (once per session, before any I/O)
        pytest.fail(
            f"no Chromium at {CHROMIUM}: `make test` installs it (apt-get install chromium)"
        )
    if not (WEB / "dist" / "index.html").exists() or not AXE.exists():
        pytest.fail("the web client is not built: run `make web` (make test does)")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield launched
        finally:
            await launched.close()


class Visitor:
    """One person in their own browser context, with what the page logged."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context = context
        self.page = page
        self.urls: list[str] = []
        self.console_errors: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on(
            "console",
            lambda message: (
                self.console_errors.append(message.text) if message.type == "error" else None
            ),
        )

    async def scan(self, name: str) -> None:
        """axe-core on the current screen, then a screenshot of it."""
        await self.page.wait_for_load_state("networkidle")
        violations = await self.page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))"""
        )
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        await self.page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
        assert not serious, f"{name}: {serious}"

    def assert_no_token_in_urls(self) -> None:
        leaked = [u for u in self.urls if JWT.search(u) or "token=" in u]
        assert not leaked, leaked

    def assert_no_csp_violation(self) -> None:
        blocked = [m for m in self.console_errors if "Content Security Policy" in m]
        assert not blocked, blocked


@pytest.fixture
async def visit(
    platform: Platform, browser: Browser
) -> AsyncIterator[Callable[..., Awaitable[Visitor]]]:
    contexts: list[BrowserContext] = []

    async def open_(*, phone: bool = False, bypass_csp: bool = False) -> Visitor:
        context = await browser.new_context(
            base_url=platform.gateway,
            viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 900},
            bypass_csp=bypass_csp,
        )
        # An init script runs outside the page's CSP, which allows only the app's files.
        await context.add_init_script(path=str(AXE))
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return Visitor(context, await context.new_page())

    yield open_
    for context in contexts:
        await context.close()


async def sign_up(page: Page, *, name: str) -> str:
    email = f"web.{name.lower()}.{secrets.token_hex(4)}@example.com"
    await page.goto("/signup")
    await page.get_by_label("Full name").fill(name)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    # attached, not visible: at phone width the menu is folded
    await expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()
    return email


async def sign_in(page: Page, email: str, password: str) -> None:
    await page.goto("/signin")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    # attached, not visible: at phone width the menu is folded
    await expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()


async def write_lesson(page: Page, title: str, markdown: str) -> None:
    """From the course editor: add a lesson, write it with the preview, publish it."""
    await page.get_by_label("New lesson title").fill(title)
    await page.get_by_role("button", name="Add lesson").click()
    await expect(page.get_by_role("heading", name=f"Lesson: {title}")).to_be_visible()
    await page.get_by_label("Markdown").fill(markdown)
    preview = page.get_by_role("region", name="Preview")
    await expect(preview.get_by_role("heading", level=1)).to_have_text(title)
    await page.get_by_role("button", name="Publish").click()
    await expect(page.get_by_text("Published", exact=False).first).to_be_visible()
    await expect(page.get_by_role("button", name="Publish again")).to_be_visible()


async def add_question(
    page: Page, prompt: str, options: list[str], correct: int, *, difficulty: float = 0
) -> None:
    form = page.locator("form.question-form")
    await form.get_by_label("Question", exact=True).fill(prompt)
    for _ in range(len(options) - 2):
        await form.get_by_role("button", name="Add option").click()
    for i, text in enumerate(options):
        await form.get_by_label(f"Option {i + 1} text").fill(text)
    await form.get_by_label(f"Option {correct + 1} is correct").check()
    await form.get_by_label("Difficulty").fill(str(difficulty))
    await form.get_by_role("button", name="Add question").click()
    await expect(page.locator("ol.questions > li", has_text=prompt)).to_be_visible()


async def create_exam(page: Page, title: str, *, adaptive: bool = False) -> None:
    """From the course editor: a new exam, opened in the builder."""
    form = page.locator("form", has=page.get_by_role("heading", name="New exam"))
    await form.get_by_label("Title").fill(title)
    if adaptive:
        await form.get_by_label("Adaptive", exact=False).check()
        await form.get_by_label("Minimum questions").fill("2")
        await form.get_by_label("Maximum questions").fill("3")
    await form.get_by_role("button", name="Create exam").click()
    await expect(page.get_by_role("heading", name=f"Exam: {title}")).to_be_visible()


async def test_the_instructor_and_student_journeys_through_the_web_client(visit, platform):
    # --- an instructor signs up and an admin promotes them in the user list -----------
    teacher = await visit()
    page = teacher.page
    teacher_email = await sign_up(page, name="Teacher")
    course = f"Biology basics {secrets.token_hex(3)}"
    await teacher.scan("catalogue")

    admin = await visit()
    await sign_in(admin.page, ADMIN_EMAIL, ADMIN_PASSWORD)
    await admin.page.get_by_role("link", name="Users").click()
    role = admin.page.get_by_label(f"Role of {teacher_email}")
    await role.select_option("INSTRUCTOR")
    await expect(admin.page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    await admin.scan("admin-users")

    # A reload keeps the session (silent refresh) and picks up the new role.
    await page.goto("/teach")
    await expect(page.get_by_role("heading", name="My courses")).to_be_visible()
    await page.get_by_label("Title").fill(course)
    await page.get_by_label("Description").fill("How living things get energy.")
    await page.get_by_role("button", name="Create course").click()
    await expect(page.get_by_role("heading", name=f"Edit: {course}")).to_be_visible()
    course_url = page.url

    await write_lesson(page, "Photosynthesis", LESSON_ONE)
    await teacher.scan("lesson-editor")
    await page.goto(course_url)
    await write_lesson(page, "Cellular respiration", LESSON_TWO)
    await page.goto(course_url)
    await page.get_by_role("button", name="Publish course").click()
    await expect(page.locator(".badge.ok", has_text="Published").first).to_be_visible()
    await teacher.scan("course-editor")

    # The reader shows the lesson and its AI note, which turns ready without a reload.
    await page.get_by_role("link", name="Photosynthesis").click()
    await page.get_by_role("link", name="Open in the reader").click()
    await expect(page.locator(".lesson-body h1")).to_have_text("Photosynthesis")
    await expect(page.locator("[data-note-status=ready]")).to_be_visible(timeout=120_000)
    await expect(page.locator(".concepts dt").first).to_be_visible()
    await teacher.scan("lesson-reader")

    # A fixed exam and an adaptive one.
    await page.goto(course_url)
    await create_exam(page, "Energy quiz")
    await add_question(page, "What do plants make in photosynthesis?", ["Glucose", "Salt"], 0)
    await add_question(
        page, "Where does cellular respiration happen?", ["Nucleus", "Mitochondria", "Wall"], 1
    )
    await teacher.scan("exam-builder")
    await page.get_by_role("button", name="Publish exam").click()
    await expect(page.get_by_text("its questions are frozen")).to_be_visible()
    fixed_exam_url = page.url

    await page.goto(course_url)
    await create_exam(page, "Adaptive energy", adaptive=True)
    for i, difficulty in enumerate((-1.0, 0.0, 1.0)):
        await add_question(
            page, f"Adaptive question {i + 1}: is ATP energy?", ["Yes", "No"], 0,
            difficulty=difficulty,
        )  # fmt: skip
    await page.get_by_role("button", name="Publish exam").click()
    await expect(page.get_by_text("its questions are frozen")).to_be_visible()

    # --- a student reads the course and takes both exams ------------------------------
    student = await visit(phone=True)
    spage = student.page
    await sign_up(spage, name="Student")
    await spage.get_by_role("link", name=course).click()
    await expect(spage.locator("ol.lessons > li")).to_have_text(
        ["Photosynthesis", "Cellular respiration"]
    )
    await student.scan("course")

    await spage.get_by_label("Search the lessons").fill("chlorophyll pigment")
    await spage.get_by_role("button", name="Search").click()
    results = spage.get_by_role("list", name="Search results")
    await expect(results.locator("li").first).to_contain_text("Photosynthesis")
    await expect(results.locator(".snippet").first).not_to_be_empty()
    await student.scan("course-search")

    await spage.get_by_role("link", name="Photosynthesis").first.click()
    await expect(spage.locator("[data-note-status=ready]")).to_be_visible(timeout=60_000)
    await student.scan("lesson-reader-phone")
    concept = spage.locator(".concepts dt a").first
    concept_name = await concept.inner_text()
    await concept.click()
    await expect(spage.get_by_role("heading", name="Find a concept")).to_be_visible()
    await expect(spage.get_by_role("list", name="Lessons with this concept")).to_contain_text(
        "Photosynthesis"
    )
    assert concept_name
    await student.scan("concept-search")

    # The fixed exam: everything on one page, against the server's deadline.
    await spage.go_back()
    await spage.go_back()
    await spage.get_by_role("link", name="Energy quiz").click()
    await spage.get_by_role("button", name="Start the exam").click()
    await expect(spage.get_by_role("timer")).to_contain_text(re.compile(r"(19|20):\d\d"))
    await spage.get_by_label("Glucose").check()
    await spage.get_by_label("Mitochondria").check()
    await student.scan("exam-fixed")
    await spage.get_by_role("button", name="Submit answers").click()
    await expect(spage.get_by_text("Passed")).to_be_visible()
    await expect(spage.locator("[data-score]")).to_have_text("100%")
    await expect(spage.locator("ol.feedback > li.right")).to_have_count(2)
    await student.scan("exam-result")

    # The adaptive exam: one question at a time until a stop rule holds.
    await spage.get_by_role("link", name="Back to the course").click()
    await spage.get_by_role("link", name="Adaptive energy").click()
    await spage.get_by_role("button", name="Start the exam").click()
    await student.scan("exam-adaptive")
    result = spage.get_by_role("heading", name=re.compile("^Result"))
    for served in range(1, 4):  # the exam was set to stop after at most 3 questions
        await expect(
            result.or_(spage.get_by_text(f"Adaptive exam: question {served}."))
        ).to_be_visible()
        if await result.is_visible():
            break
        await spage.get_by_label("Yes").check()
        await spage.get_by_role("button", name="Answer").click()
    await expect(spage.get_by_role("heading", name=re.compile("^Result"))).to_be_visible()
    await expect(spage.locator("ol.feedback > li").first).to_be_visible()

    await spage.goto("/attempts")
    await expect(spage.locator("main li")).to_have_count(2)
    await student.scan("past-attempts")

    # --- the instructor sees the fixed exam's analytics -------------------------------
    await page.goto(fixed_exam_url + "/analytics")
    completed = page.locator(".stats div", has_text="Completed").locator("dd")
    for _ in range(30):  # built from attempt.completed events, so it trails by moments
        if (await completed.inner_text()) == "1":
            break
        await page.wait_for_timeout(1000)
        await page.reload()
    await expect(completed).to_have_text("1")
    await expect(page.locator("figure.chart svg")).to_have_count(2)
    await teacher.scan("exam-analytics")

    # Signing out at phone width: through the folded menu; the refresh token is gone.
    await spage.get_by_role("button", name="Menu").click()
    await spage.get_by_role("button", name="Sign out").click()
    nav = spage.get_by_role("navigation", name="Main", include_hidden=True)
    await expect(nav.get_by_role("link", name="Sign in", include_hidden=True)).to_be_attached()
    await expect(spage).to_have_url(re.compile(r"/$"))
    assert await spage.evaluate("() => localStorage.getItem('edvent.refresh')") is None

    for visitor in (teacher, admin, student):
        visitor.assert_no_token_in_urls()
        visitor.assert_no_csp_violation()


async def test_a_lesson_with_scripts_handlers_and_javascript_links_renders_inert(gateway, visit):
    author = (await register(gateway, role="INSTRUCTOR", prefix="web-xss")).auth
    course = await gateway.post("/api/v1/courses", json={"title": "XSS"}, headers=author)
    assert course.status_code == 201, course.text
    course_id = course.json()["id"]
    markdown = (
        "# Inert\n\n"
        "<script>window.__xss = 'script'</script>\n\n"
        '<img src="x" onerror="window.__xss = \'onerror\'">\n\n'
        "<a href=\"javascript:window.__xss='raw-link'\">raw link</a>\n\n"
        "[markdown link](javascript:window.__xss='md-link')\n\n"
        "![image](x\" onerror=\"window.__xss='md-img')\n\n"
        "Plain text after.\n"
    )
    lesson = await gateway.post(
        f"/api/v1/courses/{course_id}/lessons",
        json={"title": "Inert", "content_markdown": markdown},
        headers=author,
    )
    assert lesson.status_code == 201, lesson.text
    lesson_id = lesson.json()["id"]
    for path in (f"/api/v1/lessons/{lesson_id}/publish", f"/api/v1/courses/{course_id}/publish"):
        assert (await gateway.post(path, headers=author)).status_code == 200

    # Without the CSP, so the sanitiser alone is what keeps the page inert.
    reader = await visit(bypass_csp=True)
    page = reader.page
    await page.goto(f"/lessons/{lesson_id}")
    body = page.locator(".lesson-body")
    await expect(body.locator("h1")).to_have_text("Inert")
    await expect(body).to_contain_text("Plain text after.")
    for link in await body.locator("a").all():
        await link.click(modifiers=["Control"])  # would run a javascript: URL if one survived
    await page.wait_for_timeout(500)
    assert await page.evaluate("window.__xss") is None
    dangerous = await page.evaluate(
        """() => [...document.querySelectorAll('main *')].flatMap(el =>
            [...el.attributes]
              .filter(a => a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value))
              .map(a => el.tagName + ' ' + a.name + '=' + a.value))"""
    )
    assert dangerous == []
    assert await body.locator("script, iframe, object, embed").count() == 0
    # The raw HTML shows as text, not markup.
    await expect(body).to_contain_text("<script>")
    await reader.scan("lesson-inert")


async def test_the_gateway_serves_the_client_with_its_security_headers(gateway):
    page = await gateway.get("/courses/any-client-route")
    assert page.status_code == 200
    assert '<div id="app">' in page.text
    assert page.headers["cache-control"] == "no-cache"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "'unsafe-inline'" not in policy
    # Every script the page loads is a file from this origin, none inline.
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts
    assert all('src="/assets/' in attrs and not body.strip() for attrs, body in scripts)
    asset = re.search(r'src="(/assets/[^"]+\.js)"', page.text)
    assert asset is not None
    cached = await gateway.get(asset.group(1))
    assert cached.headers["cache-control"] == "public, max-age=31536000, immutable"
    problem = await gateway.get("/api/v1/nowhere")
    assert problem.headers["content-type"] == "application/problem+json"


def test_the_committed_api_types_match_the_services_openapi_documents(platform):
    """The client's generated types (web/src/api) are regenerated from what the running
    services serve; any difference means `npm run generate` was not run."""
    result = subprocess.run(
        ["node", "scripts/generate-api.mjs", "--check"],
        cwd=WEB,
        env=dict(os.environ, EDVENT_GATEWAY=platform.gateway),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
