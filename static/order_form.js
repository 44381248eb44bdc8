// The order form's total, updated as the school types (the server computes it again on 检查 and on submit).
// Total = price per class hour × students × sessions × class hours per session (each session of the project's
// length counts as that many of the city's class hours, data-hours, already rounded to 0.01 by the server).
(function () {
  "use strict";
  var cell = document.getElementById("order-total");
  var students = document.getElementById("f-expected_students");
  var sessions = document.getElementById("f-sessions");
  if (!cell || !students || !sessions) { return; }
  var cents = Math.round(parseFloat(cell.getAttribute("data-price")) * 100);
  var hundredths = Math.round(parseFloat(cell.getAttribute("data-hours") || "1") * 100);
  var minutes = cell.getAttribute("data-minutes");
  function update() {
    var n = parseInt(students.value, 10), s = parseInt(sessions.value, 10);
    if (!(n > 0) || !(s > 0) || isNaN(cents) || isNaN(hundredths)) { return; }
    var total = Math.round(cents * n * s * hundredths / 100);
    var strong = document.createElement("strong");
    strong.textContent = (total / 100).toFixed(2) + " 元";
    cell.textContent = "";
    cell.appendChild(strong);
    var text = " = " + (cents / 100).toFixed(2) + " 元 × " + n + " 人 × " + s + " 次";
    if (minutes) { text += " × 每次 " + minutes + " 分钟折合 " + (hundredths / 100).toFixed(2) + " 课时"; }
    cell.appendChild(document.createTextNode(text));
  }
  students.addEventListener("input", update);
  sessions.addEventListener("input", update);
  update();
}());
