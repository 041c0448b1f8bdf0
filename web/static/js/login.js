// Login view: posts the credentials as JSON and goes to the page the user
// was sent here from.

import { postJson } from "./api.js";
import { readPageData, showMessage } from "./dom.js";

const form = document.getElementById("login-form");
const submit = document.getElementById("login-submit");
const message = document.getElementById("login-message");
const { next } = readPageData();

/** Returns `next` when it is a path on this site, else "/". */
function safeDestination(path) {
  if (typeof path !== "string" || !path.startsWith("/")) {
    return "/";
  }
  // "//host" and "/\host" would leave the site.
  if (path.startsWith("//") || path.startsWith("/\\")) {
    return "/";
  }
  return path;
}

function failureText(error) {
  if (error.status === 429) {
    return "Too many attempts, wait a minute.";
  }
  return error.message || "Login failed.";
}

async function logIn(event) {
  event.preventDefault();

  const credentials = {
    username: form.elements.username.value.trim(),
    password: form.elements.password.value,
    remember: form.elements.remember.checked,
  };
  submit.disabled = true;
  showMessage(message, "");

  try {
    await postJson("/login", credentials, { redirectOnUnauthorized: false });
    window.location.assign(safeDestination(next));
  } catch (error) {
    showMessage(message, failureText(error), "error");
    form.elements.password.select();
    submit.disabled = false;
  }
}

form.addEventListener("submit", logIn);
