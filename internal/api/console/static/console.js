// Gatehouse console: progressive enhancement only. Every form works
// without this file; it adds R8's "view comes with edit" on checkbox
// lists, the rules matrix's "Check all" column toggles, live R9 hints,
// and the project matrix's "read comes with write".
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.documentElement.classList.add("js");
  // Rule editor: the property lists offer only the chosen folder type's
  // properties (the server does the same when the form comes back).
  var ruleType = document.getElementById("rule-type");
  function filterProps() {
    var t = ruleType.value;
    document.querySelectorAll('#criteria select[name$=".prop"] option[data-types]').forEach(function (o) {
      var ok = !t || (" " + o.dataset.types + " ").indexOf(" " + t + " ") >= 0;
      o.hidden = !ok; o.disabled = !ok;
      if (!ok && o.selected) { o.parentNode.value = ""; }
    });
  }
  if (ruleType) { ruleType.addEventListener("change", filterProps); filterProps(); }
  // R8: checking a box checks what it implies (data-implies lists keys).
  document.querySelectorAll("input[data-implies]").forEach(function (box) {
    box.addEventListener("change", function () {
      if (!box.checked) { return; }
      (box.dataset.implies || "").split(" ").forEach(function (k) {
        if (!k || !/\.view$/.test(k)) { return; }
        var t = box.form.querySelector('input[name="' + box.name + '"][value="' + k + '"]');
        if (t && !t.disabled) { t.checked = true; }
      });
      hints(box.form);
    });
  });
  // R9: mark a requirement that is not met by the checked boxes or role.
  function hints(form) {
    if (!form) { return; }
    var held = {};
    form.querySelectorAll('input[name="perm"]:checked').forEach(function (b) { held[b.value] = true; });
    var role = form.querySelector("select#role");
    if (role && role.selectedOptions[0]) {
      (role.selectedOptions[0].dataset.perms || "").split(" ").forEach(function (k) { if (k) { held[k] = true; } });
    }
    form.querySelectorAll('input[name="perm"][data-requires]').forEach(function (b) {
      var hint = b.closest(".perm") && b.closest(".perm").querySelector(".req");
      if (!hint) { return; }
      var unmet = b.checked && (b.dataset.requires || "").split(" ").some(function (k) { return k && !held[k]; });
      hint.classList.toggle("unmet", unmet);
      hint.setAttribute("role", unmet ? "alert" : "note");
    });
  }
  document.querySelectorAll("form").forEach(function (f) {
    f.addEventListener("change", function () { hints(f); });
    hints(f);
  });
  // Members: ticks survive paging and sorting. What was changed on other
  // pages is kept in the tab's session storage and sent with the form, as
  // if those rows were on this page ("shown", "was", "member").
  var mf = document.getElementById("members-form");
  if (mf && mf.dataset.group) {
    var key = "gatehouse-members-" + mf.dataset.group;
    var sel = JSON.parse(sessionStorage.getItem(key) || "{}");
    var here = {};
    mf.querySelectorAll('input[type=checkbox][name="member"]').forEach(function (b) {
      here[b.value] = true;
      if (sel[b.value] && !b.disabled) { b.checked = sel[b.value].now; }
      b.addEventListener("change", function () {
        if (b.checked === b.defaultChecked) { delete sel[b.value]; } else { sel[b.value] = {now: b.checked, was: b.defaultChecked}; }
        sessionStorage.setItem(key, JSON.stringify(sel));
        pending();
      });
    });
    var note = document.getElementById("pending");
    function pending() {
      var n = Object.keys(sel).filter(function (id) { return !here[id]; }).length;
      if (note) { note.textContent = n ? n + " change" + (n === 1 ? "" : "s") + " on other pages will be saved too." : ""; }
    }
    pending();
    mf.addEventListener("submit", function () {
      Object.keys(sel).forEach(function (id) {
        if (here[id]) { return; }
        var add = function (name) { var h = document.createElement("input"); h.type = "hidden"; h.name = name; h.value = id; mf.appendChild(h); };
        add("shown");
        if (sel[id].was) { add("was"); }
        if (sel[id].now) { add("member"); }
      });
      sessionStorage.removeItem(key);
    });
  }
  // Rules matrix: "Check all" sets one action across every context.
  document.querySelectorAll("input[data-checkall]").forEach(function (all) {
    all.addEventListener("change", function () {
      var a = all.dataset.checkall;
      all.form.querySelectorAll('input[data-action="' + a + '"]').forEach(function (b) { b.checked = all.checked; });
    });
  });
  // Project matrix: write, add series and view personal info need read.
  document.querySelectorAll('#projects-matrix input[type=checkbox][name^="p."]').forEach(function (b) {
    b.addEventListener("change", function () {
      if (b.checked && /^project\.(write|add_series|view_personal_info)$/.test(b.value)) {
        var r = b.form.querySelector('input[name="' + b.name + '"][value="project.read"]');
        if (r) { r.checked = true; }
      }
    });
  });
});
