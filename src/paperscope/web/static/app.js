// paperscope pages: math, highlighting, ratings and follows without reloads, copy buttons, "new since last visit".
// Loaded as a file (the Content-Security-Policy allows no inline script). Never builds HTML from strings:
// every text from the library enters the page as a text node.
(function () {
  "use strict";

  // ---- math: $...$, $$...$$ and \(...\) inside text nodes of .tex elements, rendered by KaTeX (trust off)
  var MATH = /\$\$([^$]+?)\$\$|\$([^$\s](?:[^$]*?[^$\s])?)\$|\\\(([\s\S]+?)\\\)/g;
  function textNodes(root) {
    var out = [], walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, null);
    while (walker.nextNode()) out.push(walker.currentNode);
    return out;
  }
  function renderMath() {
    if (!window.katex) return 0;
    var count = 0;
    document.querySelectorAll(".tex").forEach(function (el) {
      textNodes(el).forEach(function (node) {
        var text = node.nodeValue;
        if (text.indexOf("$") < 0 && text.indexOf("\\(") < 0) return;
        MATH.lastIndex = 0;
        var frag = document.createDocumentFragment(), last = 0, m, any = false;
        while ((m = MATH.exec(text)) !== null) {
          var tex = m[1] || m[2] || m[3];
          var span = document.createElement("span");
          span.className = "math";
          try {
            window.katex.render(tex, span, {displayMode: false, throwOnError: false, trust: false,
                                            strict: "ignore", maxSize: 20, maxExpand: 200});
          } catch (e) { span.textContent = m[0]; }
          frag.appendChild(document.createTextNode(text.slice(last, m.index)));
          frag.appendChild(span);
          last = MATH.lastIndex; any = true; count++;
        }
        if (!any) return;
        frag.appendChild(document.createTextNode(text.slice(last)));
        node.parentNode.replaceChild(frag, node);
      });
    });
    return count;
  }

  // ---- search: mark the query's words and phrases (with their other endings) in titles and abstracts; a
  // phrase is marked where its words stand together, not each word wherever it is
  function escaped(w) { return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }
  function queryPatterns(terms) {
    var out = [];
    terms.forEach(function (t) {
      var words = t.split(/[^\w]+/).filter(function (w) { return w.length > 1 || /\d/.test(w); });
      if (words.length) out.push(words.map(function (w) { return escaped(w) + "\\w*"; }).join("\\W+"));
    });
    return out.sort(function (a, b) { return b.length - a.length; });  // a phrase before its own words
  }
  function highlight() {
    var box = document.querySelector(".results[data-terms]");
    if (!box) return 0;
    var terms;
    try { terms = JSON.parse(box.getAttribute("data-terms")); } catch (e) { return 0; }
    var patterns = queryPatterns(Array.isArray(terms) ? terms : []);
    if (!patterns.length) return 0;
    var re = new RegExp("\\b(?:" + patterns.join("|") + ")", "gi"), count = 0;
    box.querySelectorAll(".title, .abstract p").forEach(function (el) {
      textNodes(el).forEach(function (node) {
        if (node.parentNode.closest(".katex")) return;
        var text = node.nodeValue, frag = document.createDocumentFragment(), last = 0, m, any = false;
        re.lastIndex = 0;
        while ((m = re.exec(text)) !== null) {
          if (!m[0]) { re.lastIndex++; continue; }
          frag.appendChild(document.createTextNode(text.slice(last, m.index)));
          var mark = document.createElement("mark");
          mark.textContent = m[0];
          frag.appendChild(mark);
          last = re.lastIndex; any = true; count++;
        }
        if (!any) return;
        frag.appendChild(document.createTextNode(text.slice(last)));
        node.parentNode.replaceChild(frag, node);
      });
    });
    box.querySelectorAll("details.abstract").forEach(function (d) { if (d.querySelector("mark")) d.open = true; });
    return count;
  }

  // ---- ratings and follows: post the form with fetch, keep the page
  function say(form, text, bad) {
    var msg = form.querySelector(".msg");
    if (msg) { msg.textContent = text; msg.className = "msg" + (bad ? " bad" : ""); }
  }
  function post(form, extra) {
    var data = new FormData(form);
    Object.keys(extra).forEach(function (k) { data.set(k, extra[k]); });
    return fetch(form.getAttribute("action"), {method: "POST", body: data, credentials: "same-origin",
                               headers: {"Accept": "application/json",
                                         "X-CSRF-Token": document.body.getAttribute("data-csrf") || ""}})
      .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, body: j}; }); });
  }
  function wireForms() {
    document.querySelectorAll("form.rate").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var button = ev.submitter, rating = button ? button.value : "";
        if (button && button.classList.contains("on")) rating = "none";
        post(form, {rating: rating}).then(function (res) {
          if (!res.ok) { say(form, res.body.message || "refused", true); return; }
          form.querySelectorAll("button").forEach(function (b) {
            b.classList.toggle("on", b.value === res.body.rating);
          });
          say(form, res.body.rating === "none" ? "cleared" : "saved", false);
          if (res.body.rating === "not_interested") {
            var art = form.closest("article.paper");
            if (art && !document.querySelector(".paper-detail")) art.classList.add("hidden-paper");
          }
        }).catch(function () { say(form, "could not reach the server", true); });
      });
    });
    document.querySelectorAll("form.follow").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var action = form.querySelector("input[name=action]");
        post(form, {}).then(function (res) {
          if (!res.ok) { say(form, res.body.message || "refused", true); return; }
          var following = res.body.followed, button = form.querySelector("button");
          button.textContent = following ? "Following ✓" : "Follow";
          button.classList.toggle("on", following);
          action.value = following ? "unfollow" : "follow";
          say(form, following ? "followed" : "unfollowed", false);
        }).catch(function () { say(form, "could not reach the server", true); });
      });
    });
    document.querySelectorAll("button[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () {
        var src = document.getElementById(b.getAttribute("data-copy"));
        if (src && navigator.clipboard) navigator.clipboard.writeText(src.textContent).then(function () {
          b.textContent = "Copied";
        });
      });
    });
  }

  // ---- home: what is new since the last visit (kept in this browser only)
  function sinceLastVisit() {
    var note = document.querySelector(".since-visit");
    if (!note || !window.localStorage) return;
    var last = localStorage.getItem("paperscope:lastVisit"), n = 0;
    if (last) {
      document.querySelectorAll("article.paper[data-updated]").forEach(function (a) {
        if (a.getAttribute("data-updated") > last) { n++; a.querySelector(".new-flag").hidden = false; }
      });
      note.textContent = n + " shown here updated since your last visit.";
      note.hidden = false;
    }
    localStorage.setItem("paperscope:lastVisit", new Date().toISOString());
  }

  function start() {
    document.body.setAttribute("data-math", String(renderMath()));
    document.body.setAttribute("data-marks", String(highlight()));
    wireForms();
    sinceLastVisit();
    document.body.setAttribute("data-ready", "yes");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
