"""Content-Security-Policy violations seen by the browser, for the walks that open every page.

The server's tests (tests/test_security_headers.py) check the header and scan the templates; only a browser sees what
JavaScript, htmx, Bootstrap or Chart.js would do at run time (an inline style written as an attribute, an injected
<style>, a data: image). Each page reports its `securitypolicyviolation` events, and Chromium's console errors about
the policy are kept as well (they also cover what happens before the listener can run), and so is any static file
that fails to load: what the policy moved out of the pages must be found where it went.
"""

# Registered before any of the page's own scripts, in every page of the context. Each refusal goes straight to the
# test through an exposed function, so a refusal on a page the test has since left is not lost.
LISTEN = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.reportPolicyViolation(
    (event.effectiveDirective || event.violatedDirective) + " refused " + (event.blockedURI || "inline")
    + " on " + event.documentURI
    + (event.sourceFile ? " at " + event.sourceFile + ":" + event.lineNumber : "")
    + (event.sample ? " (" + event.sample + ")" : "")
  );
});
"""


class PolicyWatch:
    """Watches one browser context; `problems(where)` returns what was refused since the last call."""

    def __init__(self, context):
        self.seen: list[str] = []
        context.expose_function("reportPolicyViolation", self.report)
        context.add_init_script(LISTEN)
        context.on("page", self.watch)
        for page in context.pages:
            self.watch(page)

    def report(self, text: str) -> None:
        self.seen.append(text)

    def watch(self, page):
        # What the policy moved into static files (scripts, styles, Bootstrap's icons) must be there.
        page.on(
            "response",
            lambda response: (
                self.report(f"missing static file {response.status}: {response.url}")
                if "/static/" in response.url and response.status >= 400
                else None
            ),
        )
        page.on(
            "console",
            lambda message: (
                self.report(f"console: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )

    def problems(self, where: str) -> list[str]:
        seen, self.seen[:] = list(self.seen), []
        return [f"{where}: {text}" for text in seen]
