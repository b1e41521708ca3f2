// The Lambdalite console's script: every change goes through the HTTP API (the Lambda API, saved
// test events, CloudWatch Logs), from the server's own origin. Text from the server is shown with
// textContent, never as HTML.
"use strict";

const LAMBDA = "/2015-03-31/functions";
const OWN = "/_lambdalite/functions";
const enc = encodeURIComponent;

// -- HTTP -----------------------------------------------------------------------------------------
async function call(method, path, body, headers) {
  const init = { method, headers: Object.assign({ "Content-Type": "application/json" }, headers || {}) };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  const response = await fetch(path, init);
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try { const parsed = JSON.parse(text); message = parsed.Message || parsed.message || text; } catch (e) { /* plain text */ }
    throw new Error(`${response.status} ${response.headers.get("x-amzn-errortype") || ""}: ${message}`);
  }
  return { response, text };
}

function say(element, text, failed) {
  if (!element) return;
  element.textContent = text;
  element.classList.toggle("failed", Boolean(failed));
}

// Null for a JSON text, else what is wrong and where (line and column): browsers' own messages do
// not all say where, so a small scanner finds the first character that cannot continue the text.
function parseJson(text) {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    const at = jsonErrorAt(text);
    const before = text.slice(0, at);
    const line = before.split("\n").length, column = at - before.lastIndexOf("\n");
    const found = at < text.length ? `unexpected ${JSON.stringify(text[at])}` : "unexpected end of input";
    return `${found} at line ${line}, column ${column}`;
  }
}

function jsonErrorAt(text) {
  let i = 0;
  const fail = () => { throw i; };
  const ws = () => { while (i < text.length && " \t\n\r".includes(text[i])) i++; };
  const literal = (word) => { for (const c of word) { if (text[i] !== c) fail(); i++; } };
  function string() {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") { i++; if (!'"\\/bfnrtu'.includes(text[i] || "x")) fail(); }
      else if (text.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= text.length) fail();
    i++;
  }
  function number() {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || !m[0] || m[0] === "-") fail();
    i += m[0].length;
  }
  function value() {
    ws();
    const c = text[i];
    if (c === "{") {
      i++; ws();
      if (text[i] === "}") { i++; return; }
      for (;;) {
        ws(); if (text[i] !== '"') fail(); string(); ws();
        if (text[i] !== ":") fail(); i++; value(); ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "}") { i++; return; }
        fail();
      }
    } else if (c === "[") {
      i++; ws();
      if (text[i] === "]") { i++; return; }
      for (;;) {
        value(); ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "]") { i++; return; }
        fail();
      }
    } else if (c === '"') string();
    else if (c === "t") literal("true");
    else if (c === "f") literal("false");
    else if (c === "n") literal("null");
    else number();
  }
  try {
    value(); ws();
    if (i < text.length) fail();
    return text.length;
  } catch (at) {
    return typeof at === "number" ? Math.min(at, text.length) : 0;
  }
}

// -- zip (stored, no compression): what UpdateFunctionCode and CreateFunction take ----------------
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function zip(files) {   // files: [[name, text], ...]
  const encoder = new TextEncoder();
  const parts = [], central = [];
  let offset = 0;
  for (const [name, text] of files) {
    const nameBytes = encoder.encode(name), data = encoder.encode(text), crc = crc32(data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true); local.setUint16(4, 20, true); local.setUint16(6, 0x0800, true);
    local.setUint16(8, 0, true); local.setUint32(14, crc, true);
    local.setUint32(18, data.length, true); local.setUint32(22, data.length, true);
    local.setUint16(26, nameBytes.length, true);
    parts.push(new Uint8Array(local.buffer), nameBytes, data);
    const entry = new DataView(new ArrayBuffer(46));
    entry.setUint32(0, 0x02014b50, true); entry.setUint16(4, 0x031e, true); entry.setUint16(6, 20, true);
    entry.setUint16(8, 0x0800, true); entry.setUint32(16, crc, true);
    entry.setUint32(20, data.length, true); entry.setUint32(24, data.length, true);
    entry.setUint16(28, nameBytes.length, true); entry.setUint32(38, (0o100644 << 16) >>> 0, true);
    entry.setUint32(42, offset, true);
    central.push(new Uint8Array(entry.buffer), nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const size = central.reduce((n, p) => n + p.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true); end.setUint16(8, files.length, true); end.setUint16(10, files.length, true);
  end.setUint32(12, size, true); end.setUint32(16, offset, true);
  return concat([...parts, ...central, new Uint8Array(end.buffer)]);
}

function concat(arrays) {
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) { out.set(a, at); at += a.length; }
  return out;
}

function base64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

async function fileBase64(input) {
  const file = input && input.files && input.files[0];
  if (!file) throw new Error("choose a .zip file first");
  return base64(new Uint8Array(await file.arrayBuffer()));
}

// -- editors: line numbers beside a plain textarea -----------------------------------------------
function editors() {
  for (const editor of document.querySelectorAll("[data-editor]")) {
    const area = editor.querySelector("textarea"), lines = editor.querySelector(".lines");
    const number = () => {
      const count = area.value.split("\n").length;
      lines.textContent = Array.from({ length: count }, (_, i) => i + 1).join("\n");
      area.rows = Math.min(Math.max(count + 1, 6), 40);
    };
    area.addEventListener("input", number);
    area.addEventListener("scroll", () => { lines.scrollTop = area.scrollTop; });
    area.addEventListener("keydown", (e) => {
      if (e.key === "Tab") {   // a tab key indents, as editors do
        e.preventDefault();
        const start = area.selectionStart;
        area.setRangeText("    ", start, area.selectionEnd, "end");
        number();
      }
    });
    number();
  }
}

// -- a function's page --------------------------------------------------------------------------
function report(log) {
  const line = log.split("\n").find((l) => l.startsWith("REPORT RequestId:")) || "";
  const out = {};
  for (const part of line.split("\t")) {
    const m = /^(RequestId|Duration|Billed Duration|Memory Size|Max Memory Used|Init Duration|Restore Duration): (.*)$/.exec(part.replace(/^REPORT /, "").trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

function showResult(panel, outcome) {
  panel.replaceChildren();
  const head = document.createElement("h3");
  head.textContent = `Execution result: ${outcome.failed ? "failed" : "succeeded"}`;
  head.className = outcome.failed ? "failed" : "succeeded";
  const grid = document.createElement("div");
  grid.className = "result-grid";
  const response = block("Response", outcome.body);
  response.querySelector("pre").setAttribute("data-testid", "test-response");
  const summary = document.createElement("div");
  const title = document.createElement("h4");
  title.textContent = "Summary";
  const table = document.createElement("table");
  const rows = [["Request ID", outcome.requestId], ...Object.entries(outcome.summary).filter(([k]) => k !== "RequestId")];
  for (const [k, v] of rows) {
    const tr = table.insertRow();
    tr.insertCell().textContent = k;
    tr.insertCell().textContent = v;
  }
  summary.append(title, table);
  grid.append(response, summary, block("Log output", outcome.log));
  panel.append(head, grid);
}

function block(title, text) {
  const div = document.createElement("div");
  const h = document.createElement("h4");
  h.textContent = title;
  const pre = document.createElement("pre");
  pre.textContent = text;
  div.append(h, pre);
  return div;
}

async function invoke(name, payload, panel) {
  say(panel, "Running ...");
  try {
    const { response, text } = await call("POST", `${LAMBDA}/${enc(name)}/invocations`, payload,
                                          { "X-Amz-Log-Type": "Tail" });
    const encoded = response.headers.get("x-amz-log-result") || "";
    const log = new TextDecoder().decode(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)));
    let body = text;
    try { body = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON: as it came */ }
    showResult(panel, { failed: Boolean(response.headers.get("x-amz-function-error")), body, log,
                        summary: report(log), requestId: response.headers.get("x-amzn-requestid") || "" });
  } catch (e) {
    say(panel, `The call failed: ${e.message}`, true);
  }
}

function functionPage(root) {
  const name = root.dataset.function;
  const panel = root.querySelector('[data-testid="test-result"]');
  const eventForm = document.getElementById("event-form");
  const eventMessage = eventForm.querySelector(".message");

  root.addEventListener("click", async (e) => {
    const button = e.target.closest("[data-action]");
    if (!button) return;
    const action = button.dataset.action;
    if (action === "run-event") {
      say(panel, "Running ...");   // at once: the last result must not stand in for this one
      try {
        const { text } = await call("GET", `${OWN}/${enc(name)}/test-events/${enc(button.dataset.event)}`);
        await invoke(name, text, panel);
      } catch (err) { say(panel, err.message, true); }
    } else if (action === "edit-event") {
      const { text } = await call("GET", `${OWN}/${enc(name)}/test-events/${enc(button.dataset.event)}`);
      eventForm.event.value = button.dataset.event;
      try { eventForm.payload.value = JSON.stringify(JSON.parse(text), null, 2); } catch (err) { eventForm.payload.value = text; }
    } else if (action === "run-form-event") {
      const problem = parseJson(eventForm.payload.value);
      if (problem) { say(eventMessage, `Not JSON: ${problem}`, true); return; }
      say(eventMessage, "");
      await invoke(name, eventForm.payload.value, panel);
    } else if (action === "delete-function") {
      if (!window.confirm(`Delete the function ${name}? Its versions, aliases and saved test events go too.`)) return;
      try {
        await call("DELETE", `${LAMBDA}/${enc(name)}`);
        window.location.assign(document.body.dataset.prefix + "/");
      } catch (err) { window.alert(err.message); }
    }
  });

  eventForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const problem = parseJson(eventForm.payload.value);
    if (problem) { say(eventMessage, `Not JSON: ${problem}`, true); return; }
    try {
      await call("PUT", `${OWN}/${enc(name)}/test-events/${enc(eventForm.event.value)}`, eventForm.payload.value);
      window.location.reload();
    } catch (err) { say(eventMessage, err.message, true); }
  });

  const codeForm = document.getElementById("code-form");
  if (codeForm) codeForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const message = codeForm.querySelector(".message");
    const files = [...codeForm.querySelectorAll("textarea[data-file]")].map((t) => [t.dataset.file, t.value]);
    say(message, "Deploying ...");
    try {
      await call("PUT", `${LAMBDA}/${enc(name)}/code`, { ZipFile: base64(zip(files)) });
      say(message, "Deployed: the next invocation runs the new code.");
    } catch (err) { say(message, err.message, true); }
  });

  const zipForm = document.getElementById("zip-form");
  zipForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const message = zipForm.querySelector(".message");
    try {
      await call("PUT", `${LAMBDA}/${enc(name)}/code`, { ZipFile: await fileBase64(zipForm.zip) });
      window.location.reload();
    } catch (err) { say(message, err.message, true); }
  });

  const configForm = document.getElementById("config-form");
  configForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const message = configForm.querySelector(".message");
    const problem = parseJson(configForm.variables.value);
    if (problem) { say(message, `Environment variables are not JSON: ${problem}`, true); return; }
    try {
      await call("PUT", `${LAMBDA}/${enc(name)}/configuration`, {
        Handler: configForm.handler.value, MemorySize: Number(configForm.memory.value),
        Timeout: Number(configForm.timeout.value), Environment: { Variables: JSON.parse(configForm.variables.value) } });
      say(message, "Saved.");
    } catch (err) { say(message, err.message, true); }
  });

  logView(name, root.querySelector('[data-testid="logs"]'), document.getElementById("log-form"));
}

// Logs: the last 15 minutes' lines, then each new line while live (/_lambdalite/logs, by id, in
// pages of 500); a search goes through CloudWatch Logs' FilterLogEvents (its pattern syntax).
function logView(name, pre, form) {
  let after = null, timer = null, searching = false;
  function append(events, replace) {
    const text = events.map((e) => (e.message.endsWith("\n") ? e.message : e.message + "\n")).join("");
    pre.textContent = replace ? text : pre.textContent + text;
    pre.scrollTop = pre.scrollHeight;
  }
  async function page(query) {
    const { text } = await call("GET", `/_lambdalite/logs?function=${enc(name)}&limit=500&${query}`);
    return JSON.parse(text);
  }
  async function first() {
    searching = false;
    try {
      const got = await page(`since=${Date.now() - 15 * 60 * 1000}`);
      after = got.next;
      append(got.events || [], true);
    } catch (e) { pre.textContent = e.message; }
  }
  async function search() {
    searching = true;
    try {
      const { text } = await call("POST", "/", { logGroupName: `/aws/lambda/${name}`, limit: 500, interleaved: true,
                                                 filterPattern: form.pattern.value },
                                  { "Content-Type": "application/x-amz-json-1.1",
                                    "X-Amz-Target": "Logs_20140328.FilterLogEvents" });
      append(JSON.parse(text).events || [], true);
    } catch (e) { pre.textContent = e.message; }
  }
  async function tick() {
    if (!searching && form.live.checked && document.visibilityState === "visible") {
      try {
        const got = await page(after !== null && after !== undefined ? `after=${after}` : `since=${Date.now() - 60000}`);
        if (got.next !== null && got.next !== undefined) after = got.next;
        if ((got.events || []).length) append(got.events, false);
      } catch (e) { /* the next tick tries again */ }
    }
    timer = window.setTimeout(tick, 1500);
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); if (form.pattern.value) search(); else first(); });
  first().then(() => { timer = window.setTimeout(tick, 1500); });
  return { stop() { window.clearTimeout(timer); } };
}

// -- creating a function -----------------------------------------------------------------------
function createPage(form) {
  const message = form.querySelector(".message");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    say(message, "Creating ...");
    try {
      const source = form.querySelector('input[name="source"]:checked').value;
      const zipFile = source === "zip" ? await fileBase64(form.zip) : base64(zip([["lambda_function.py", form.code.value]]));
      const name = form.name.value;
      await call("POST", LAMBDA, { FunctionName: name, Runtime: form.runtime.value, Handler: form.handler.value,
                                   Role: "arn:aws:iam::000000000000:role/lambdalite-console",
                                   MemorySize: Number(form.memory.value), Timeout: Number(form.timeout.value),
                                   Code: { ZipFile: zipFile } });
      window.location.assign(`${document.body.dataset.prefix}/functions/${enc(name)}`);
    } catch (err) { say(message, err.message, true); }
  });
}

// -- an API's page: a method's Test form, on TestInvokeMethod ------------------------------------
function testForms() {
  for (const form of document.querySelectorAll("form.test-method")) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const panel = form.querySelector(".result");
      const problem = parseJson(form.headers.value || "{}");
      if (problem) { say(panel, `Headers are not JSON: ${problem}`, true); return; }
      say(panel, "Testing ...");
      const { api, resource, method } = form.dataset;
      try {
        const { text } = await call("POST", `/restapis/${enc(api)}/resources/${enc(resource)}/methods/${enc(method)}`,
                                    { pathWithQueryString: form.path.value, headers: JSON.parse(form.headers.value || "{}"),
                                      body: form.body.value });
        const answer = JSON.parse(text);
        const sent = (answer.log.split("\n").find((l) => l.includes("Endpoint request body after transformations: ")) || "")
          .split("Endpoint request body after transformations: ")[1] || "(no integration request)";
        panel.replaceChildren();
        const head = document.createElement("h3");
        head.textContent = `Status ${answer.status} · ${answer.latency} ms`;
        head.className = answer.status < 400 ? "succeeded" : "failed";
        const body = block("Response body", answer.body);
        body.querySelector("pre").setAttribute("data-testid", "test-method-body");
        panel.append(head, body, block("Response headers", JSON.stringify(answer.headers, null, 2)),
                     block("The event the integration got (after the mapping template)", sent), block("Log", answer.log));
      } catch (err) { say(panel, err.message, true); }
    });
  }
}

// -- building an API, as the guide does in API Gateway's console --------------------------------
function apiPage(root) {
  const api = root.dataset.api, region = root.dataset.region, account = root.dataset.account;
  const base = `/restapis/${enc(api)}`;
  const reload = () => window.location.reload();

  const resourceForm = document.getElementById("resource-form");
  resourceForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await call("POST", `${base}/resources/${enc(resourceForm.parent.value)}`, { pathPart: resourceForm.part.value });
      reload();
    } catch (err) { say(resourceForm.querySelector(".message"), err.message, true); }
  });

  const deployForm = document.getElementById("deploy-form");
  deployForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await call("POST", `${base}/deployments`, { stageName: deployForm.stage.value });
      reload();
    } catch (err) { say(deployForm.querySelector(".message"), err.message, true); }
  });

  // What a method has: a query string added (Method Request), the JSON mapping template (Integration
  // Request), each a patch of the method or its integration, as UpdateMethod / UpdateIntegration take them.
  for (const form of document.querySelectorAll("form.edit-method, form.edit-template")) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const method = `${base}/resources/${enc(form.dataset.resource)}/methods/${enc(form.dataset.method)}`;
      try {
        if (form.classList.contains("edit-method")) {
          await call("PATCH", method, { patchOperations: [
            { op: "add", path: `/requestParameters/method.request.querystring.${form.query.value}`, value: "false" }] });
        } else {
          await call("PATCH", `${method}/integration`, { patchOperations: [
            { op: form.template.value ? "add" : "remove", path: "/requestTemplates/application~1json",
              value: form.template.value || undefined }] });
        }
        reload();
      } catch (err) { say(form.querySelector(".message"), err.message, true); }
    });
  }

  // A method with its integration, the way the console makes it: for a Lambda function also its
  // 200 method and integration responses, and the permission that lets API Gateway invoke it.
  for (const form of document.querySelectorAll("form.method-form")) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const message = form.querySelector(".message");
      const verb = form.verb.value, kind = form.kind.value, method = `${base}/resources/${enc(form.dataset.resource)}/methods/${verb}`;
      const parameters = {};
      for (const name of form.query.value.split(",").map((n) => n.trim()).filter(Boolean)) {
        parameters[`method.request.querystring.${name}`] = false;
      }
      try {
        say(message, "Saving ...");
        await call("PUT", method, { authorizationType: "NONE", requestParameters: parameters });
        if (kind === "MOCK") {
          await call("PUT", `${method}/integration`, { type: "MOCK", requestTemplates: { "application/json": '{"statusCode": 200}' } });
        } else {
          if (!form.function.value) throw new Error("name the Lambda function");
          const fn = `arn:aws:lambda:${region}:${account}:function:${form.function.value}`;
          const integration = { type: kind, integrationHttpMethod: "POST",
                                uri: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${fn}/invocations` };
          if (kind === "AWS" && form.template.value) integration.requestTemplates = { "application/json": form.template.value };
          await call("PUT", `${method}/integration`, integration);
          const sid = `console-${api}-${verb}-${form.dataset.path}`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 100);
          try {
            await call("POST", `${LAMBDA}/${enc(form.function.value)}/policy`, {
              StatementId: sid, Action: "lambda:InvokeFunction", Principal: "apigateway.amazonaws.com",
              SourceArn: `arn:aws:execute-api:${region}:${account}:${api}/*/${verb === "ANY" ? "*" : verb}${form.dataset.path}` });
          } catch (err) { if (!/ResourceConflictException/.test(err.message)) throw err; }   // added before
        }
        if (kind !== "AWS_PROXY") {
          await call("PUT", `${method}/responses/200`, { responseModels: { "application/json": "Empty" } });
          await call("PUT", `${method}/integration/responses/200`, { selectionPattern: "" });
        }
        reload();
      } catch (err) { say(message, err.message, true); }
    });
  }
}

function apisPage(form) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const { text } = await call("POST", "/restapis", { name: form.name.value });
      window.location.assign(`${document.body.dataset.prefix}/apis/${enc(JSON.parse(text).id)}`);
    } catch (err) { say(form.querySelector(".message"), err.message, true); }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  testForms();
  const apiRoot = document.getElementById("api");
  if (apiRoot) apiPage(apiRoot);
  const newApi = document.getElementById("create-api");
  if (newApi) apisPage(newApi);
  editors();
  const fn = document.getElementById("function");
  if (fn) functionPage(fn);
  const create = document.getElementById("create-function");
  if (create) createPage(create);
});
