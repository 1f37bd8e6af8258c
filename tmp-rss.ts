import "./runner/job.ts";
console.log("rss MB", (process.resourceUsage().maxRSS / 1024).toFixed(0), "heap", (process.memoryUsage().heapUsed / 1e6).toFixed(0));
