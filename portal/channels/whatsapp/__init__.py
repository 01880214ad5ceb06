"""The WhatsApp channel (docs/architecture.md, "WhatsApp"): the adapter create_app registers
(adapter.py), the webhook route (views.py), the Graph client (client.py), payload parsing
(webhook.py), inbound processing (inbound.py, contacts.py, template_reviews.py), media (media.py),
the 24-hour window (window.py), error reasons (failures.py), the admin test send (test_send.py)
and a local simulator of the API (simulator.py)."""
