// The reply letter's 打印 button (a file of its own: the pages allow no inline script).
"use strict";
const printButton = document.getElementById("print-letter");
if (printButton) {
  printButton.addEventListener("click", () => window.print());
}
