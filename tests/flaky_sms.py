"""An SMS backend for tests: the provider is down for the first attempt of each text, then accepts it."""

from infusion_site.messaging import FileSmsBackend


class FirstAttemptFailsSmsBackend(FileSmsBackend):
    def send(self, *, to: str, text: str, key: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        failed = self.folder / "failed-once.log"
        seen = failed.read_text().splitlines() if failed.exists() else []
        if key not in seen:
            with open(failed, "a") as log:
                log.write(key + "\n")
            raise ConnectionResetError("provider connection reset")
        super().send(to=to, text=text, key=key)
