// The order form's total, updated as the school types (the server computes it again on 检查 and on submit).
(function () {
  "use strict";
  var cell = document.getElementById("order-total");
  var students = document.getElementById("f-expected_students");
  var sessions = document.getElementById("f-sessions");
  if (!cell || !students || !sessions) { return; }
  var cents = Math.round(parseFloat(cell.getAttribute("data-price")) * 100);
  function update() {
    var n = parseInt(students.value, 10), s = parseInt(sessions.value, 10);
    if (!(n > 0) || !(s > 0) || isNaN(cents)) { return; }
    var total = cents * n * s;
    var strong = document.createElement("strong");
    strong.textContent = (total / 100).toFixed(2) + " 元";
    cell.textContent = "";
    cell.appendChild(strong);
    cell.appendChild(document.createTextNode(" = " + (cents / 100).toFixed(2) + " 元 × " + n + " 人 × " + s + " 次"));
  }
  students.addEventListener("input", update);
  sessions.addEventListener("input", update);
  update();
}());
