// Lantern Goods: the catalogue, a cart kept in localStorage, and the small behaviours of each page.
"use strict";

const CATALOGUE = [
  { slug: "classic-lantern", name: "Classic Brass Lantern", price: 48.0, category: "Lanterns",
    sku: "LG-101", description: "A hand-finished brass lantern with a glass chimney and an eight-hour wick." },
  { slug: "trail-headlamp", name: "Trail Headlamp 300", price: 29.5, category: "Headlamps",
    sku: "LG-205", description: "A 300-lumen rechargeable headlamp with a red night mode, for running and camping." },
  { slug: "beeswax-candles", name: "Beeswax Candle Set", price: 18.0, category: "Candles",
    sku: "LG-310", description: "Six slow-burning beeswax candles with cotton wicks and a honey scent." },
  { slug: "solar-string-lights", name: "Solar String Lights", price: 34.99, category: "Outdoor",
    sku: "LG-412", description: "Twenty warm-white bulbs on a 10 m weatherproof cable, charged by a small solar panel." },
];

const CART_KEY = "lantern-goods-cart";
// The shop may be served under a path prefix (the lanterna server hosts it at /demo/):
// resolve links against the site root, found from this script's own URL.
const SITE_ROOT = new URL("..", document.currentScript.src);
const sitePath = (path) => new URL(path, SITE_ROOT).pathname;
const ORDER_KEY = "lantern-goods-last-order";
const USER_KEY = "lantern-goods-user";
const DEMO_USER = { email: "demo@lanterna-shop.test", password: "lantern123", name: "Demo Shopper" };

function money(value) {
  return "$" + value.toFixed(2);
}

function product(slug) {
  return CATALOGUE.find((p) => p.slug === slug);
}

function readCart() {
  try {
    const items = JSON.parse(localStorage.getItem(CART_KEY) || "[]");
    return Array.isArray(items) ? items.filter((item) => product(item.slug)) : [];
  } catch (_) {
    return [];
  }
}

function writeCart(items) {
  localStorage.setItem(CART_KEY, JSON.stringify(items));
  showCartCount();
}

function addToCart(slug, quantity) {
  const items = readCart();
  const line = items.find((item) => item.slug === slug);
  if (line) {
    line.qty += quantity;
  } else {
    items.push({ slug: slug, qty: quantity });
  }
  writeCart(items);
}

function cartTotal(items) {
  return items.reduce((sum, item) => sum + product(item.slug).price * item.qty, 0);
}

function showCartCount() {
  const badge = document.getElementById("cart-count");
  if (badge) {
    const count = readCart().reduce((sum, item) => sum + item.qty, 0);
    badge.textContent = String(count);
    badge.setAttribute("aria-label", count + (count === 1 ? " item in cart" : " items in cart"));
  }
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    node.setAttribute(key, value);
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

// --- product page -------------------------------------------------------------------------------

function initProduct() {
  const button = document.getElementById("add-to-cart");
  const status = document.getElementById("cart-status");
  const quantityInput = document.getElementById("quantity");
  button.addEventListener("click", () => {
    const quantity = Math.max(1, parseInt(quantityInput.value, 10) || 1);
    quantityInput.value = String(quantity);
    addToCart(button.dataset.slug, quantity);
    const name = product(button.dataset.slug).name;
    status.textContent = "Added " + quantity + " × " + name + " to your cart.";
    status.hidden = false;
  });
}

// --- cart -----------------------------------------------------------------------------------------

function renderCart() {
  const items = readCart();
  const body = document.getElementById("cart-items");
  const table = document.getElementById("cart-table");
  const empty = document.getElementById("cart-empty");
  const total = document.getElementById("cart-total");
  body.replaceChildren();
  for (const item of items) {
    const p = product(item.slug);
    const row = el("tr", { "data-slug": p.slug });
    const nameCell = el("td");
    nameCell.appendChild(el("a", { href: sitePath("products/" + p.slug + ".html") }, p.name));
    row.appendChild(nameCell);
    row.appendChild(el("td", {}, money(p.price)));
    row.appendChild(el("td", { class: "qty" }, String(item.qty)));
    row.appendChild(el("td", {}, money(p.price * item.qty)));
    const actions = el("td");
    const remove = el("button", { type: "button", class: "secondary", "aria-label": "Remove " + p.name }, "Remove");
    remove.addEventListener("click", () => {
      writeCart(readCart().filter((line) => line.slug !== p.slug));
      renderCart();
    });
    actions.appendChild(remove);
    row.appendChild(actions);
    body.appendChild(row);
  }
  table.hidden = items.length === 0;
  empty.hidden = items.length !== 0;
  total.textContent = "Total: " + money(cartTotal(items));
}

function initCart() {
  renderCart();
  document.getElementById("checkout").addEventListener("click", () => {
    window.location.href = sitePath("checkout.html");
  });
  document.getElementById("clear-cart").addEventListener("click", () => {
    writeCart([]);
    renderCart();
  });
}

// --- checkout ---------------------------------------------------------------------------------------

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function setFieldError(input, message) {
  const error = document.getElementById(input.id + "-error");
  error.textContent = message || "";
  error.hidden = !message;
  if (message) {
    input.setAttribute("aria-invalid", "true");
  } else {
    input.removeAttribute("aria-invalid");
  }
}

function renderSummary() {
  const items = readCart();
  const list = document.getElementById("summary-items");
  list.replaceChildren();
  for (const item of items) {
    const p = product(item.slug);
    list.appendChild(el("li", {}, item.qty + " × " + p.name + " — " + money(p.price * item.qty)));
  }
  document.getElementById("summary-empty").hidden = items.length !== 0;
  document.getElementById("summary-total").textContent = "Order total: " + money(cartTotal(items));
}

function initCheckout() {
  renderSummary();
  const form = document.getElementById("checkout-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = document.getElementById("name");
    const email = document.getElementById("email");
    const address = document.getElementById("address");
    const checks = [
      [name, name.value.trim() ? "" : "Please enter your full name."],
      [email, !email.value.trim() ? "Please enter your email address."
        : EMAIL_PATTERN.test(email.value.trim()) ? "" : "Please enter a valid email address, like name@example.com."],
      [address, address.value.trim() ? "" : "Please enter your shipping address."],
    ];
    let firstInvalid = null;
    for (const [input, message] of checks) {
      setFieldError(input, message);
      if (message && !firstInvalid) {
        firstInvalid = input;
      }
    }
    const summary = document.getElementById("form-errors");
    const items = readCart();
    const problems = checks.filter(([, message]) => message).length;
    if (problems || items.length === 0) {
      summary.textContent = items.length === 0 && !problems
        ? "Your cart is empty. Add a product before placing an order."
        : "Please fix " + problems + (problems === 1 ? " error" : " errors") + " before placing your order."
          + (items.length === 0 ? " Your cart is also empty." : "");
      summary.hidden = false;
      if (firstInvalid) {
        firstInvalid.focus();
      }
      return;
    }
    summary.hidden = true;
    const orderNumber = "LG-" + String(1000 + Math.floor(Math.random() * 9000));
    const total = money(cartTotal(items));
    localStorage.setItem(ORDER_KEY, JSON.stringify({ number: orderNumber, total: total }));
    writeCart([]);
    form.hidden = true;
    document.getElementById("order-summary").hidden = true;
    const confirmation = document.getElementById("confirmation");
    document.getElementById("confirmation-name").textContent = name.value.trim();
    document.getElementById("order-number").textContent = orderNumber;
    document.getElementById("order-total").textContent = total;
    document.getElementById("order-email").textContent = email.value.trim();
    confirmation.hidden = false;
    confirmation.focus();
  });
}

// --- search -------------------------------------------------------------------------------------------

function initSearch() {
  const query = (new URLSearchParams(window.location.search).get("q") || "").trim();
  const input = document.getElementById("search-query");
  input.value = query;
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  const matches = CATALOGUE.filter((p) => {
    const haystack = (p.name + " " + p.category + " " + p.description + " " + p.sku).toLowerCase();
    return terms.every((term) => haystack.includes(term));
  });
  const summary = document.getElementById("search-summary");
  const list = document.getElementById("search-results");
  list.replaceChildren();
  if (!terms.length) {
    summary.textContent = "Type a word in the search box to find products.";
    return;
  }
  summary.textContent = matches.length
    ? matches.length + (matches.length === 1 ? " result" : " results") + " for “" + query + "”"
    : "No products match “" + query + "”.";
  for (const p of matches) {
    const item = el("li", { class: "card" });
    const heading = el("h2");
    heading.appendChild(el("a", { href: sitePath("products/" + p.slug + ".html") }, p.name));
    item.appendChild(heading);
    item.appendChild(el("p", { class: "price" }, money(p.price)));
    item.appendChild(el("p", {}, p.description));
    list.appendChild(item);
  }
}

// --- login --------------------------------------------------------------------------------------------

function showSignedIn(user) {
  document.getElementById("login-form").hidden = true;
  const panel = document.getElementById("signed-in");
  document.getElementById("signed-in-name").textContent = user.name;
  document.getElementById("signed-in-email").textContent = user.email;
  panel.hidden = false;
}

function initLogin() {
  const stored = localStorage.getItem(USER_KEY);
  if (stored) {
    showSignedIn(JSON.parse(stored));
  }
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const email = document.getElementById("login-email").value.trim().toLowerCase();
    const password = document.getElementById("password").value;
    if (!email || !password) {
      error.textContent = "Please enter your email and password.";
      error.hidden = false;
      return;
    }
    if (email !== DEMO_USER.email || password !== DEMO_USER.password) {
      error.textContent = "Incorrect email or password. Please try again.";
      error.hidden = false;
      return;
    }
    error.hidden = true;
    const user = { email: DEMO_USER.email, name: DEMO_USER.name };
    localStorage.setItem(USER_KEY, JSON.stringify(user));
    showSignedIn(user);
  });
  document.getElementById("sign-out").addEventListener("click", () => {
    localStorage.removeItem(USER_KEY);
    document.getElementById("signed-in").hidden = true;
    form.hidden = false;
  });
}

// --- contact ------------------------------------------------------------------------------------------

function initContact() {
  const form = document.getElementById("contact-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = document.getElementById("contact-name");
    const email = document.getElementById("contact-email");
    const message = document.getElementById("contact-message");
    setFieldError(name, name.value.trim() ? "" : "Please enter your name.");
    setFieldError(email, EMAIL_PATTERN.test(email.value.trim()) ? "" : "Please enter a valid email address.");
    setFieldError(message, message.value.trim() ? "" : "Please write a message.");
    if (!name.value.trim() || !EMAIL_PATTERN.test(email.value.trim()) || !message.value.trim()) {
      return;
    }
    form.hidden = true;
    document.getElementById("contact-sent").hidden = false;
  });
}

const PAGES = {
  product: initProduct,
  cart: initCart,
  checkout: initCheckout,
  search: initSearch,
  login: initLogin,
  contact: initContact,
};

document.addEventListener("DOMContentLoaded", () => {
  showCartCount();
  const init = PAGES[document.body.dataset.page];
  if (init) {
    init();
  }
});
