import jsonata from "jsonata";
const exprs = ["$sum([1..10000].($ * 2))", "$join(['a','b','c'], '-') & $string(42)", "status = 'answered' ? 'Done' : 'Missed'"];
let steps = 0;
for (const src of exprs) {
  for (const hooked of [false, true]) {
    const e = jsonata(src);
    if (hooked) e.assign(Symbol.for("jsonata.__evaluate_entry") as any, () => { steps++; });
    steps = 0;
    for (let i = 0; i < 3; i++) await e.evaluate({ status: "answered" });
    const n = src.startsWith("$sum") ? 10 : 2000;
    const t = performance.now();
    steps = 0;
    for (let i = 0; i < n; i++) await e.evaluate({ status: "answered" });
    console.log(src.slice(0, 30).padEnd(30), hooked ? "hooked" : "plain ", ((performance.now() - t) / n).toFixed(4), "ms/eval", hooked ? `${steps / n} steps` : "");
  }
}
