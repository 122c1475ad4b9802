// The dev phone: a receptionist, a caller number, digits from the keypad or the keyboard, and
// a call placed through the embedded PBX (POST /api/call, the same door as `ivrhooks call`).
// Digits separated by a space are keyed at successive prompts: the PBX follows forwards between
// receptionists under one session id.

import { hopItem } from "./hop.js";

const KEY = /^[0-9*#]$/;

export function setupPhone() {
  const form = document.getElementById("phone");
  const to = document.getElementById("to");
  const caller = document.getElementById("caller");
  const digits = document.getElementById("digits");
  const result = document.getElementById("result");
  const dial = document.getElementById("dial");
  const buttons = new Map([...document.querySelectorAll("#keypad button")].map((b) => [b.dataset.key, b]));

  function press(key) {
    digits.value += key;
    const button = buttons.get(key);
    if (button) {
      button.classList.add("pressed");
      setTimeout(() => button.classList.remove("pressed"), 120);
    }
  }

  function nextPrompt() {
    if (digits.value && !digits.value.endsWith(" ")) digits.value += " ";
  }

  for (const [key, button] of buttons) button.addEventListener("click", () => press(key));
  document.getElementById("next").addEventListener("click", nextPrompt);
  document.getElementById("clear").addEventListener("click", () => {
    digits.value = "";
    result.replaceChildren();
  });
  digits.addEventListener("input", () => {
    digits.value = digits.value.replace(/[^0-9*# ]/g, "").replace(/ {2,}/g, " ").replace(/^ /, "");
  });

  // The keypad from the keyboard: digits, * and # typed anywhere but in a text field, Space for
  // the next prompt, Backspace, and Enter to call. On a focused button or link, Enter and Space
  // keep their own meaning: they press it.
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement;
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const onControl = target instanceof HTMLButtonElement || target instanceof HTMLAnchorElement;
    if (KEY.test(event.key)) {
      event.preventDefault();
      press(event.key);
    } else if (event.key === "Backspace") {
      event.preventDefault();
      digits.value = digits.value.slice(0, -1);
    } else if (event.key === " " && !onControl) {
      event.preventDefault(); // not a page scroll
      nextPrompt();
    } else if (event.key === "Enter" && !onControl) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const groups = digits.value.trim().split(/\s+/).filter(Boolean);
    const body = { to: to.value, caller: caller.value.trim(), digits: groups.length > 1 ? groups : groups[0] || "" };
    dial.disabled = true;
    dial.textContent = "Calling…";
    result.setAttribute("aria-busy", "true");
    try {
      const response = await fetch("/api/call", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
      if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
      const hops = answer.hops || [];
      result.replaceChildren(...hops.map(hopItem));
      result.dataset.session = answer.session_id || "";
    } catch (error) {
      const item = document.createElement("li");
      item.className = "hop error";
      item.setAttribute("role", "alert");
      // A TypeError is a network failure (its message differs between browsers).
      item.textContent = `error: ${error instanceof TypeError ? "the app is not running (reloading?)" : error.message}`;
      result.replaceChildren(item);
    } finally {
      dial.disabled = false;
      dial.textContent = "Call";
      result.removeAttribute("aria-busy");
    }
  });

  return {
    /** Offer ``numbers`` as receptionists, keeping the one chosen if it is still there. */
    setReceptionists(numbers) {
      const chosen = to.value;
      to.replaceChildren(...numbers.map((n) => new Option(`${n}`, n)));
      if (numbers.includes(chosen)) to.value = chosen;
    },
    /** Ready a call that the route picked on the map answers. */
    pick({ to: receptionist, route }) {
      to.value = receptionist;
      if (route.kind === "CALLER") {
        caller.value = route.example;
        digits.value = "";
      } else {
        digits.value = route.example === "ALL" ? "1" : route.example;
      }
      dial.focus();
    },
  };
}
