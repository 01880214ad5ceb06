"""The WhatsApp channel: the Graph client (client.py), the webhook signature and payload parser
(webhook.py) and a local simulator of the API (simulator.py)."""
