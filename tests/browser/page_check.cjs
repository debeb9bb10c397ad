// Open generated pages in Debian's headless Chromium (driven by playwright-core) and report, per page,
// as one JSON line: axe-core's findings (WCAG 2.0 and 2.1, A and AA, and best practices), whether the
// page reflows at 200 % zoom, its headings, images, links and ids as the browser sees them, the class
// page's loss groups, and a screenshot. Findings of every impact are reported; the tests fail on
// serious and critical ones.
//   NODE_PATH=<prefix>/node_modules node page_check.cjs '{"pages": [{"path": ..., "screenshot": ...}]}'
const { chromium } = require("playwright-core");
const axeSource = require("fs").readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const { pathToFileURL } = require("url");

const plan = JSON.parse(process.argv[2]);
const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];

async function axeFindings(page) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }), WCAG);
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
}

// What the page shows, read in the browser: the order of headings, every image's alt text, every
// link's resolved address, and the class page's groups (data-group rows) with their students.
function contents() {
  const text = (el) => el.textContent.replace(/\s+/g, " ").trim();
  return {
    lang: document.documentElement.lang,
    title: document.title,
    headings: [...document.querySelectorAll("h1,h2,h3,h4,h5,h6")].map((h) => [Number(h.tagName[1]), text(h)]),
    images: [...document.images].map((img) => ({ src: img.src.slice(0, 300), alt: img.getAttribute("alt"), loaded: img.complete && img.naturalWidth > 0 })),
    links: [...document.querySelectorAll("a[href]")].map((a) => ({ href: a.href, text: text(a) })),
    ids: [...document.querySelectorAll("[id]")].map((el) => el.id),
    groups: [...document.querySelectorAll("[data-group]")].map((row) => ({
      key: row.getAttribute("data-group"),
      count: Number(row.getAttribute("data-count")),
      students: [...row.querySelectorAll("[data-student]")].map((s) => s.getAttribute("data-student")),
      text: text(row),
    })),
  };
}

async function main() {
  const browser = await chromium.launch({
    executablePath: plan.chromium || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  try {
    for (const item of plan.pages) {
      const url = pathToFileURL(item.path).href;
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.goto(url, { waitUntil: "load" });
      const found = { path: item.path, violations: await axeFindings(page), ...(await page.evaluate(contents)) };
      if (item.screenshot) await page.screenshot({ path: item.screenshot, fullPage: false });
      await context.close();
      // 200 % zoom of a 1280 px wide window: 640 CSS pixels, twice the device pixels
      const zoomed = await browser.newContext({ viewport: { width: 640, height: 450 }, deviceScaleFactor: 2 });
      const small = await zoomed.newPage();
      await small.goto(url, { waitUntil: "load" });
      found.zoom = await small.evaluate(() => ({
        width: window.innerWidth,
        scrollWidth: document.documentElement.scrollWidth,
      }));
      await zoomed.close();
      console.log(JSON.stringify(found));
    }
  } finally {
    await browser.close();
  }
}

main().catch((error) => { console.error(error.stack || String(error)); process.exit(1); });
