// A Mindbricks-style frontend for workforceos's subscription service, run against the twin.
//
// It logs in through /auth-api/login and then relies on the session cookie alone (no Bearer
// header): every call sends `credentials: "include"` and the company in `mbx-company-codename`.
// Where the backend is: `?twin=<url>` (kept for the session), else this page's own origin — the
// case of a dev server proxying /auth-api and /<service>-api to the twin.

const TENANT_HEADER = "mbx-company-codename";
const params = new URLSearchParams(location.search);
const twin = (params.get("twin") ?? sessionStorage.getItem("twin") ?? "").replace(/\/$/, "");
sessionStorage.setItem("twin", twin);
const AUTH = `${twin}/auth-api`;
const SUBSCRIPTIONS = `${twin}/subscriptionmanagement-api/v1/companysubscriptions`;

const $ = (id) => document.getElementById(id);
let tenant = sessionStorage.getItem("tenant") || "";
let session = null;

async function call(method, url, body) {
  const headers = {};
  if (tenant) headers[TENANT_HEADER] = tenant;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // unsafe-url: the full page URL goes as Referer, so the hosted checkout returns to this page.
  const response = await fetch(url, {
    method, headers, credentials: "include", referrerPolicy: "unsafe-url",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, data };
}

function errorText(data) {
  return data.detail || data.message || "the request failed";
}

function checkouts() {
  return JSON.parse(sessionStorage.getItem("checkouts") || "{}");
}

function show(section) {
  $("login").hidden = section !== "login";
  $("app").hidden = section !== "app";
  $("current-user").hidden = section !== "app";
}

async function hydrate() {
  const { ok, data } = await call("GET", `${AUTH}/currentuser`);
  if (!ok) {
    session = null;
    show("login");
    return;
  }
  session = data;
  $("current-user").textContent =
    `${data.fullname} · ${data.email} · ${data.roleId} · ${data.tenantCodename ?? "root"}`;
  show("app");
  await refresh();
}

function render(records) {
  const pending = checkouts();
  $("records").replaceChildren(...records.map((record) => {
    const row = document.createElement("tr");
    row.dataset.id = record.id;
    for (const text of [record.id.slice(0, 8), record.status, record.paymentStatus,
                        `${(record.amount / 100).toFixed(2)} ${record.currency}`]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    const action = document.createElement("td");
    if (record.status === "pending" && pending[record.id]) {
      const pay = document.createElement("button");
      pay.className = "pay";
      pay.textContent = "Pay";
      pay.addEventListener("click", () => location.assign(pending[record.id]));
      action.append(pay);
    }
    row.append(action);
    return row;
  }));
}

async function refresh() {
  const { ok, data } = await call("GET", SUBSCRIPTIONS);
  if (!ok) {
    $("app-error").textContent = errorText(data);
    return [];
  }
  render(data.companySubscriptions);
  return data.companySubscriptions;
}

// Back from the checkout: Stripe's webhook activates the subscription a moment later.
async function awaitPayment() {
  $("notice").hidden = false;
  $("notice").textContent = "Payment received — confirming…";
  for (let attempt = 0; attempt < 40; attempt += 1) {
    const records = await refresh();
    if (!records.some((r) => r.status === "pending")) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  $("notice").textContent = "Payment received — your subscription is active.";
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  tenant = $("tenant").value.trim();
  sessionStorage.setItem("tenant", tenant);
  const { ok, data } = await call("POST", `${AUTH}/login`,
    { username: $("email").value.trim(), password: $("password").value });
  if (!ok) {
    $("login-error").textContent = errorText(data);
    return;
  }
  $("password").value = "";
  await hydrate();
});

$("logout").addEventListener("click", async () => {
  await call("POST", `${AUTH}/logout`, {});
  await hydrate();
});

$("subscribe").addEventListener("click", async () => {
  $("app-error").textContent = "";
  const now = new Date();
  const { ok, data } = await call("POST", SUBSCRIPTIONS, {
    status: "pending", ownerId: session.userId, activationDate: now.toISOString(),
    expiryDate: new Date(now.getTime() + 30 * 86400000).toISOString(),
  });
  if (!ok) {
    $("app-error").textContent = errorText(data);
    return;
  }
  if (data.checkoutUrl) {
    sessionStorage.setItem("checkouts",
      JSON.stringify({ ...checkouts(), [data.companySubscription.id]: data.checkoutUrl }));
  }
  await refresh();
});

if (params.has("canceled")) {
  $("notice").hidden = false;
  $("notice").textContent = "Payment canceled.";
}
await hydrate();
if (session && params.has("paid")) await awaitPayment();
