// Admins: every user, their role, and whether they may sign in.
import { useState } from "preact/hooks";
import { identity, need, type User } from "../api/client";
import { api, type AccountUser } from "../api/contract";
import { currentUser } from "../auth";
import { useStore } from "../store";
import { Empty, Failure, Page, Show, SignInFirst, useAction, useLoad, when } from "../ui";

const ROLES = ["STUDENT", "INSTRUCTOR", "ADMIN"] as const;

export function Users() {
  const me = useStore(currentUser);
  const [users, setUsers] = useState<User[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const first = useLoad(async () => {
    if (me?.role !== "ADMIN") return null;
    const page = await need(identity.GET("/api/v1/users", { params: { query: { limit: 100 } } }));
    setUsers(page.items);
    setCursor(page.next_cursor);
    return page;
  }, [me?.id]);
  const more = useAction(async () => {
    const page = await need(identity.GET("/api/v1/users", { params: { query: { limit: 100, cursor: cursor! } } }));
    setUsers([...users, ...page.items]);
    setCursor(page.next_cursor);
  });
  if (!me) return <Page title="Users"><SignInFirst path="/admin/users" /></Page>;
  if (me.role !== "ADMIN") return <Page title="Users"><p>Only administrators manage users.</p></Page>;
  return (
    <Page title="Users" wide>
      <Show load={first}>
        {() =>
          users.length === 0 ? (
            <Empty>No users.</Empty>
          ) : (
            <div class="table-scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Email</th>
                    <th scope="col">Joined</th>
                    <th scope="col">Role</th>
                    <th scope="col">Access</th>
                  </tr>
                </thead>
                <tbody>
                  {users.map((u) => (
                    <UserRow key={u.id} user={u} onChanged={(n) => setUsers(users.map((x) => (x.id === n.id ? n : x)))} />
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
          More users
        </button>
      )}
    </Page>
  );
}

function UserRow({ user: plain, onChanged }: { user: User; onChanged: (u: User) => void }) {
  const user = plain as AccountUser;
  const me = useStore(currentUser);
  const [done, setDone] = useState(false);
  const [accessDone, setAccessDone] = useState(false);
  const access = useAction(async (disabled: boolean) => {
    setAccessDone(false);
    onChanged({ ...user, ...(await api.setDisabled(user.id, disabled)) });
    setAccessDone(true);
  });
  const change = useAction(async (role: string) => {
    setDone(false);
    onChanged(
      await need(
        identity.PATCH("/api/v1/users/{user_id}", {
          params: { path: { user_id: user.id } },
          body: { role: role as (typeof ROLES)[number] },
        }),
      ),
    );
    setDone(true);
  });
  return (
    <tr>
      <td>{user.full_name}</td>
      <td>
        {user.email}
        {user.email_verified === false && (
          <>
            {" "}
            <span class="badge">unverified</span>
          </>
        )}
      </td>
      <td>{when(user.created_at)}</td>
      <td>
        <label>
          <span class="visually-hidden">Role of {user.email}</span>
          <select value={user.role} disabled={change.busy} onChange={(e) => change.run(e.currentTarget.value)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r.charAt(0) + r.slice(1).toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        {done && <span role="status"> Saved</span>}
        <Failure error={change.error} />
      </td>
      <td>
        {/* A switch, not a checkbox: it shows the state the service answered with,
            not the click, since disabling ends every session of that person. */}
        <button
          type="button"
          role="switch"
          class={user.disabled ? "danger" : "secondary"}
          aria-checked={user.disabled === true}
          aria-label={`Disabled account ${user.email}`}
          // Disabling yourself would lock the last admin out in a click.
          disabled={access.busy || user.id === me?.id}
          onClick={() => access.run(!user.disabled)}
        >
          {user.disabled ? "Disabled" : "Active"}
        </button>
        {accessDone && <span role="status"> {user.disabled ? "Disabled: signed out everywhere" : "Enabled"}</span>}
        <Failure error={access.error} />
      </td>
    </tr>
  );
}
