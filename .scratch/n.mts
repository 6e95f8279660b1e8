import jsonata from "jsonata";
for (const e of ["$round(bill_duration / 60)", "bill_duration ? $round(bill_duration / 60) : 0", "$round($number(bill_duration) / 60)", "$round((bill_duration ? bill_duration : 0) / 60)"]) {
  for (const ctx of [{ bill_duration: 328 }, { bill_duration: null }, {}]) {
    try { console.log(e.padEnd(50), JSON.stringify(ctx).padEnd(22), JSON.stringify(await jsonata(e).evaluate(ctx))); } catch (err) { console.log(e.padEnd(50), JSON.stringify(ctx).padEnd(22), "ERR", (err as Error).message); }
  }
}
