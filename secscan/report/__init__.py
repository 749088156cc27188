"""``secscan report``: the security dashboard and compliance report (HTML, Markdown, JSON)."""
