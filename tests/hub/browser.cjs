// The browser part of the hub check: Debian's Chromium, headless, driven by playwright-core.
// Logs in as a person would, from the LMS: the assignment's link on the loopback LTI 1.3 platform, the
// hub's LTI 1.3 login and the platform's launch form, to JupyterLab; opens formgrader inside it, and takes the
// screenshots shown in docs/jupyterhub.md. Prints one JSON line per check: {name, ok, detail}.
//   node browser.cjs '{"base": ..., "launches": {user: link}, ...}'   (hub_check.py passes the plan)
const { chromium } = require("playwright-core");
const path = require("path");

const plan = JSON.parse(process.argv[2]);
const report = (name, ok, detail) => console.log(JSON.stringify({ name, ok, detail }));
const MANAGE = "Manage Assignments";

// The user opens the assignment's link in the LMS; the launch ends in their own JupyterLab.
async function login(browser, user) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(60000);
  await page.goto(plan.launches[user]);
  await page.waitForURL((url) => url.pathname.startsWith(`/user/${user}/`), { timeout: 90000 });
  return page;
}

// JupyterLab asks once whether to fetch Jupyter news (a toast over the screenshots): answer no.
async function dismissNews(page) {
  const no = page.locator(".Toastify button", { hasText: /^No$/ });
  if (await no.count().catch(() => 0)) {
    await no.first().click().catch(() => {});
    await page.locator(".Toastify__toast").first().waitFor({ state: "detached", timeout: 5000 }).catch(() => {});
  }
}

async function openFromNbgraderMenu(page, item) {
  await dismissNews(page);
  await page.locator(".lm-MenuBar-itemLabel", { hasText: /^Nbgrader$/ }).click();
  await page.locator(".lm-Menu-itemLabel", { hasText: new RegExp(`^${item}$`) }).click();
}

// Open JupyterLab at `lab`, then formgrader from the Nbgrader menu; what its frame shows and the
// Content-Security-Policy its page was served with.
async function formgraderInLab(page, lab) {
  const policies = [];
  page.on("response", (response) => {
    if (/\/formgrader\/?(manage_assignments)?(\?|$)/.test(new URL(response.url()).pathname)) {
      policies.push(response.headers()["content-security-policy"] || "(none)");
    }
  });
  await page.goto(`${plan.base}${lab}`);
  await page.waitForSelector(".lm-MenuBar-itemLabel >> text=Nbgrader", { timeout: 90000 });
  await openFromNbgraderMenu(page, "Formgrader");
  const frameElement = await page.waitForSelector("iframe[src*='formgrader']");
  let rendered = false;
  for (let i = 0; i < 30 && !rendered; i++) {
    const frame = await frameElement.contentFrame();
    if (frame && !frame.url().startsWith("chrome-error:")) {
      rendered = (await frame.locator(`text=${MANAGE}`).count().catch(() => 0)) > 0;
    }
    if (!rendered) await page.waitForTimeout(500);
  }
  const frame = await frameElement.contentFrame();
  const frameUrl = frame ? frame.url() : "(no frame)";
  let rows = "";
  if (rendered) {
    await frame.waitForSelector(`text=${plan.assignment}`, { timeout: 30000 }).catch(() => {});
    rows = (await frame.locator("body").innerText()).includes(plan.assignment) ? plan.assignment : "";
    // show the assignments table (submissions, feedback) in the screenshot
    await frame.evaluate(() => window.scrollTo(0, document.body.scrollHeight)).catch(() => {});
  }
  await dismissNews(page);
  return { rendered, frameUrl, policies, rows };
}

async function main() {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  try {
    // 1. formgrader in the course service's JupyterLab, with the fix of the sample config
    const instructor = await login(browser, plan.instructor);
    const fixed = await formgraderInLab(instructor, `/services/${plan.course}/lab`);
    await instructor.screenshot({ path: path.join(plan.images, "formgrader-in-jupyterlab.png") });
    report("formgrader renders in JupyterLab (course service, with the fix)",
      fixed.rendered && fixed.rows === plan.assignment,
      fixed.rendered ? `"${MANAGE}" in the frame, ${plan.assignment} listed: ${fixed.rows === plan.assignment}; ` +
        `CSP ${JSON.stringify(fixed.policies)}`
        : `expected "${MANAGE}" in the frame, found frame ${fixed.frameUrl}, CSP ${JSON.stringify(fixed.policies)}`);

    // 2. the same on a server without the fix: the frame must be refused (JupyterHub's default CSP)
    const control = await formgraderInLab(instructor, `/user/${plan.instructor}/${plan.control}/lab`);
    await instructor.screenshot({ path: path.join(plan.images, "formgrader-refused-without-fix.png") });
    const refused = !control.rendered && control.policies.some((p) => p.includes("frame-ancestors 'none'"));
    report("without the fix the formgrader frame is refused", refused,
      refused ? `frame ${control.frameUrl}, CSP ${JSON.stringify(control.policies)}`
        : `expected a refused frame and frame-ancestors 'none', found rendered=${control.rendered}, ` +
          `CSP ${JSON.stringify(control.policies)} (if upstream changed its default, the fix may be unneeded)`);

    // 3. a student's Assignments tab, and the feedback page they fetched
    const student = await login(browser, plan.student);
    await student.goto(`${plan.base}/user/${plan.student}/lab`);
    await student.waitForSelector(".lm-MenuBar-itemLabel >> text=Nbgrader", { timeout: 90000 });
    await openFromNbgraderMenu(student, "Assignment List");
    const listed = await student.waitForSelector(`#submitted_assignments_list >> text=${plan.assignment}`,
      { timeout: 30000 }).then(() => true, () => false);
    await student.waitForTimeout(500);
    await dismissNews(student);
    await student.screenshot({ path: path.join(plan.images, "student-assignments.png") });
    report("a student's Assignments tab lists the submitted assignment", listed,
      listed ? `${plan.assignment} under "Submitted assignments"` : `expected ${plan.assignment} in the submitted list`);

    if (plan.feedback) {
      await student.goto(`${plan.base}/user/${plan.student}/files/${plan.feedback}`);
      const summary = await student.waitForSelector("#grading-summary", { timeout: 30000 }).then(() => true, () => false);
      await student.screenshot({ path: path.join(plan.images, "feedback-page.png") });
      report("a student's feedback page opens in the browser", summary,
        summary ? "grading summary at the top" : "expected the grading summary (#grading-summary) on the page");
    } else {
      report("a student's feedback page opens in the browser", false, "not run: no feedback was fetched");
    }
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  report("browser script", false, String(error && error.stack || error).slice(0, 1500));
  process.exitCode = 1;
});
