"""The editor web UI (editor, authoring), the public article page (article_page) and the editorial
policy page (policy): one module each, routed in articles/urls.py."""
