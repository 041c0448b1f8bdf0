// Small DOM helpers shared by the pages: build elements and read the data
// the server rendered into the page.

/**
 * Returns a new element. `options.text` is set with textContent, so user
 * text (titles, messages) can never become markup.
 */
export function el(tag, options = {}, children = []) {
  const element = document.createElement(tag);

  if (options.className) {
    element.className = options.className;
  }
  if (options.text !== undefined && options.text !== null) {
    element.textContent = String(options.text);
  }
  for (const [name, value] of Object.entries(options.attrs ?? {})) {
    if (value !== undefined && value !== null && value !== false) {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }

  element.append(...children);
  return element;
}

/** Returns the JSON object of <script type="application/json" id="page-data">. */
export function readPageData() {
  const block = document.getElementById("page-data");
  if (!block) {
    return {};
  }
  try {
    return JSON.parse(block.textContent) ?? {};
  } catch {
    return {};
  }
}

/** Shows `message` in `element` (hidden when the message is empty). */
export function showMessage(element, message, kind = "info") {
  element.textContent = message ?? "";
  element.dataset.kind = kind;
  element.hidden = !message;
}
