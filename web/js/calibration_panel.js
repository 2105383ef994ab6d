// The calibrate mode's side panel (web/js/calibrate.js owns the state): the court model's named points as
// a list (pick, where it was clicked, its residual after a solve, remove), the Solve / Save / Clear / Close
// buttons, the result line (errors in px and cm, mean and max) and a message line for progress and
// refusals. Only DOM here: what a click does is the caller's `on` handlers.

const HINT = "Pick a point in the list, click it on the video (hold to drag). Pick a placed point to drag it, "
  + "or to click it elsewhere. ↑: off the floor (net posts, wall tops), two of them give the full camera pose.";

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text != null) el.textContent = text;
  return el;
}

const fmt = (x, digits = 1) => (x == null ? "–" : x.toFixed(digits));

/** The result line of a solve answer (the analytics describe(): kind, errors, revision). */
export function resultText(s) {
  const stored = s.revision == null ? "not saved" : `revision ${s.revision}`;
  return `${s.kind} · ${fmt(s.reprojection_px, 2)} px mean, ${fmt(s.reprojection_max_px, 2)} px max · `
    + `floor ${fmt(s.floor_error_cm)} cm mean, ${fmt(s.floor_error_max_cm)} cm max · ${stored}`;
}

/**
 * @param {{solve: () => void, save: () => void, clear: () => void, close: () => void,
 *          pick: (name: string) => void, remove: (name: string) => void}} on
 */
export function createPanel(on) {
  const root = element("aside", "calib-panel");
  root.hidden = true;
  root.setAttribute("aria-label", "calibration");
  const title = element("h2", "calib-title", "Calibrate");
  const list = element("ol", "calib-points");
  const actions = element("div", "calib-actions");
  const buttons = {
    solve: /** @type {HTMLButtonElement} */ (element("button", "calib-solve", "Solve")),
    save: /** @type {HTMLButtonElement} */ (element("button", "calib-save", "Save")),
    clear: /** @type {HTMLButtonElement} */ (element("button", "calib-clear", "Clear")),
    close: /** @type {HTMLButtonElement} */ (element("button", "calib-close", "Close")),
  };
  for (const [what, button] of Object.entries(buttons)) button.addEventListener("click", () => on[what]());
  actions.append(buttons.solve, buttons.save, buttons.clear, buttons.close);
  const result = element("div", "calib-result");
  const message = element("div", "calib-message");
  message.setAttribute("role", "alert");
  root.append(title, element("p", "calib-hint", HINT), actions, result, message, list);
  document.body.append(root);
  /** @type {Map<string, HTMLElement>} */
  const rows = new Map();

  return {
    root,
    buttons,
    set title(text) {
      title.textContent = text;
    },
    /** @param {string} text @param {"info" | "ok" | "error"} [kind] */
    say(text, kind = "info") {
      message.textContent = text;
      message.dataset.kind = kind;
    },
    /** One row per court point; `world` gives each point's model position (metres; z > 0 off the floor). */
    list(/** @type {string[]} */ names, /** @type {Map<string, number[]>} */ world) {
      list.replaceChildren();
      rows.clear();
      names.forEach((name, i) => {
        const row = element("li", "calib-point");
        row.dataset.name = name;
        const off = (world.get(name)?.[2] ?? 0) !== 0;
        const pick = element("button", "calib-pick", `${i + 1}. ${name}${off ? " ↑" : ""}`);
        pick.title = off ? "off the floor (needed for the full camera pose)" : "on the floor";
        pick.addEventListener("click", () => on.pick(name));
        const remove = element("button", "calib-remove", "×");
        remove.title = `remove ${name}`;
        remove.addEventListener("click", () => on.remove(name));
        row.append(pick, element("span", "calib-where"), element("span", "calib-residual"), remove);
        list.append(row);
        rows.set(name, row);
      });
    },
    /**
     * The rows and buttons for the points placed (image pixels), the selected one and the last solve.
     * @param {Map<string, [number, number]>} placed @param {string | null} selected @param {any} solved
     */
    render(placed, selected, solved) {
      const residuals = solved?.residuals ?? {};
      for (const [name, row] of rows) {
        const at = placed.get(name);
        row.classList.toggle("selected", name === selected);
        row.classList.toggle("placed", Boolean(at));
        row.querySelector(".calib-where").textContent = at ? `${at[0].toFixed(1)}, ${at[1].toFixed(1)}` : "";
        const r = residuals[name];
        row.querySelector(".calib-residual").textContent = r
          ? `${fmt(r.px)} px${r.cm == null ? "" : ` · ${fmt(r.cm)} cm`}` : "";
        /** @type {HTMLButtonElement} */ (row.querySelector(".calib-remove")).hidden = !at;
      }
      buttons.solve.disabled = placed.size === 0;
      buttons.save.disabled = !solved;
    },
    /** The result line; its numbers also as data attributes (floorCm, floorMaxCm, px) for tools and tests. */
    result(solved) {
      result.textContent = solved ? resultText(solved) : "";
      for (const [key, field] of [["floorCm", "floor_error_cm"], ["floorMaxCm", "floor_error_max_cm"],
        ["px", "reprojection_px"]]) {
        if (solved) result.dataset[key] = String(solved[field]);
        else delete result.dataset[key];
      }
    },
  };
}
