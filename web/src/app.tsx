// The shell: header with navigation by role, and the routes. Screens other than the
// catalogue and sign-in load on demand, so the first screen ships little JavaScript.
import { ErrorBoundary, LocationProvider, Route, Router, lazy, useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { currentUser } from "./auth";
import { restore, signOut } from "./session";
import { useStore } from "./store";
import { Catalogue, ConceptSearch, CourseView } from "./pages/catalogue";
import { SignIn, SignUp } from "./pages/auth";
import { Loading, Page } from "./ui";

const LessonReader = lazy(() => import("./pages/reader").then((m) => m.LessonReader));
const MyCourses = lazy(() => import("./pages/teach").then((m) => m.MyCourses));
const CourseEditor = lazy(() => import("./pages/teach").then((m) => m.CourseEditor));
const LessonEditor = lazy(() => import("./pages/teach").then((m) => m.LessonEditor));
const ExamBuilder = lazy(() => import("./pages/exams").then((m) => m.ExamBuilder));
const ExamAnalytics = lazy(() => import("./pages/exams").then((m) => m.ExamAnalytics));
const ExamStart = lazy(() => import("./pages/take").then((m) => m.ExamStart));
const AttemptView = lazy(() => import("./pages/take").then((m) => m.AttemptView));
const PastAttempts = lazy(() => import("./pages/take").then((m) => m.PastAttempts));
const Users = lazy(() => import("./pages/admin").then((m) => m.Users));
const Account = lazy(() => import("./pages/account").then((m) => m.Account));
const ForgotPassword = lazy(() => import("./pages/account").then((m) => m.ForgotPassword));
const ResetPassword = lazy(() => import("./pages/account").then((m) => m.ResetPassword));
const VerifyEmail = lazy(() => import("./pages/account").then((m) => m.VerifyEmail));

function Header() {
  const user = useStore(currentUser);
  const { route, path } = useLocation();
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [path]);
  const teaches = user && (user.role === "INSTRUCTOR" || user.role === "ADMIN");
  return (
    <header class="top">
      <a class="brand" href="/">
        Edvent
      </a>
      <button
        type="button"
        class="menu-toggle"
        aria-expanded={open}
        aria-controls="main-nav"
        onClick={() => setOpen(!open)}
      >
        Menu
      </button>
      <nav id="main-nav" class={open ? "open" : ""} aria-label="Main">
        <a href="/">Courses</a>
        <a href="/search">Concepts</a>
        {user && <a href="/attempts">My attempts</a>}
        {teaches && <a href="/teach">Teach</a>}
        {user?.role === "ADMIN" && <a href="/admin/users">Users</a>}
        {user ? (
          <>
            <a href="/account">Account</a>
            <span class="who" title={user.email}>
              {user.full_name} <small>({user.role.toLowerCase()})</small>
            </span>
            <button
              type="button"
              class="link"
              onClick={async () => {
                await signOut();
                route("/");
              }}
            >
              Sign out
            </button>
          </>
        ) : (
          <>
            <a href="/signin">Sign in</a>
            <a href="/signup" class="button">
              Sign up
            </a>
          </>
        )}
      </nav>
    </header>
  );
}

function NotFound() {
  return (
    <Page title="Page not found">
      <p>
        There is nothing here. <a href="/">Back to the courses</a>.
      </p>
    </Page>
  );
}

export function App() {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    restore().finally(() => setReady(true));
  }, []);
  return (
    <LocationProvider>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        {ready ? (
          <ErrorBoundary>
            <Router>
              <Route path="/" component={Catalogue} />
              <Route path="/signin" component={SignIn} />
              <Route path="/signup" component={SignUp} />
              <Route path="/search" component={ConceptSearch} />
              <Route path="/courses/:id" component={CourseView} />
              <Route path="/lessons/:id" component={LessonReader} />
              <Route path="/teach" component={MyCourses} />
              <Route path="/teach/courses/:id" component={CourseEditor} />
              <Route path="/teach/lessons/:id" component={LessonEditor} />
              <Route path="/teach/exams/:id" component={ExamBuilder} />
              <Route path="/teach/exams/:id/analytics" component={ExamAnalytics} />
              <Route path="/exams/:id" component={ExamStart} />
              <Route path="/attempts" component={PastAttempts} />
              <Route path="/attempts/:id" component={AttemptView} />
              <Route path="/admin/users" component={Users} />
              <Route path="/account" component={Account} />
              <Route path="/forgot-password" component={ForgotPassword} />
              <Route path="/reset-password" component={ResetPassword} />
              <Route path="/verify-email" component={VerifyEmail} />
              <Route default component={NotFound} />
            </Router>
          </ErrorBoundary>
        ) : (
          <Loading />
        )}
      </main>
    </LocationProvider>
  );
}
