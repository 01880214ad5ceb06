"""The OpenAPI 3.1 document of /api/v1, served at GET /api/v1/openapi.json.

One dict describes every operation, its parameters, bodies, responses and schemas; a test runs
schemathesis from it against the app, so the document and the views cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from portal.access import public
from portal.api import bp
from portal.api.params import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT, TAG_NAME_MAX_LENGTH
from portal.models import Channel, ConversationStatus, Direction, MessageStatus, Priority
from portal.services.notes import MAX_NOTE_LENGTH
from portal.services.outbound import MAX_TEXT_LENGTH

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {**schema, "type": [schema["type"], "null"]}


def json_body(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def enum_of(values) -> Schema:
    return {"type": "string", "enum": [v.value for v in values]}


def errors(*codes: int) -> dict[str, Schema]:
    names = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        413: "TooLarge",
        422: "Invalid",
    }
    return {str(code): {"$ref": f"#/components/responses/{names[code]}"} for code in codes}


def page_of(item: str) -> Schema:
    return {
        "type": "object",
        "required": ["data", "next_cursor"],
        "properties": {
            "data": {"type": "array", "items": ref(item)},
            "next_cursor": nullable(
                {"type": "string", "description": "Pass as `cursor` for the next page; null on the last page."}
            ),
        },
    }


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TIMESTAMP = {"type": "string", "format": "date-time"}
PAGE_PARAMETERS = [{"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/cursor"}]


def path_id(name: str, what: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id.", "schema": ID}


def query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


CUSTOM_FIELDS = {
    "type": "object",
    "description": "Custom fields admins defined (Admin > Custom fields), field key -> value as stored: "
    "text, a number as \"1234.5\", a date as \"2026-12-31\", one of a list's options, \"true\"/\"false\", "
    "a URL, a CPF (11 digits) or a CNPJ (14), without punctuation. Keys without a value are left out.",
    "additionalProperties": {"type": "string"},
}
CUSTOM_FIELDS_INPUT = {
    "type": "object",
    "description": "Field key -> value; null or an empty string clears it. Values are checked by the field's "
    "type (a CPF or CNPJ by its check digits, in any common format) and stored normalized; a required field "
    "may not be left empty. An unknown key or a bad value is a 422 naming `custom_fields.<key>`.",
    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
}

SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "Stable, machine-readable: validation_error, not_found..."},
                    "message": {"type": "string", "description": "A sentence a person can read."},
                    "fields": {
                        "type": "object",
                        "description": "Validation errors only: field or query parameter -> messages.",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
    },
    "Contact": {
        "type": "object",
        "required": ["id", "name", "phone", "email", "city", "custom_fields", "created_at", "updated_at"],
        "properties": {
            "id": ID,
            "name": {"type": "string"},
            "phone": nullable({"type": "string", "description": "E.164, e.g. +5511987654321; null for a "
                               "contact known only by e-mail."}),
            "email": nullable({"type": "string"}),
            "city": nullable({"type": "string"}),
            "custom_fields": CUSTOM_FIELDS,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        },
    },
    "ContactCreate": {
        "type": "object",
        "required": ["name", "phone"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "phone": {
                "type": "string",
                "description": "Any common format; stored as E.164 (Brazil is the default country). "
                "Unique: a Brazilian mobile with and without the ninth digit is one number. Empty for a "
                "contact known only by e-mail (then `email` is needed).",
            },
            "email": nullable({"type": "string", "format": "email"}),
            "city": nullable({"type": "string", "maxLength": 120}),
            "custom_fields": {**CUSTOM_FIELDS_INPUT, "description": CUSTOM_FIELDS_INPUT["description"]
                              + " Every required contact field must be given."},
        },
    },
    "ContactUpdate": {
        "type": "object",
        "description": "Only the fields sent change.",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "phone": {"type": "string"},
            "email": nullable({"type": "string", "format": "email"}),
            "city": nullable({"type": "string", "maxLength": 120}),
            "custom_fields": {**CUSTOM_FIELDS_INPUT, "description": CUSTOM_FIELDS_INPUT["description"]
                              + " Only the keys sent change."},
        },
    },
    "ContactPage": page_of("Contact"),
    "Conversation": {
        "type": "object",
        "required": [
            "id", "contact", "channel", "status", "priority", "assigned_to", "tags", "custom_fields", "started_at",
            "closed_at", "last_inbound_at", "last_message_at", "snoozed_at", "snoozed_until", "created_at",
            "updated_at",
        ],
        "properties": {
            "id": ID,
            "contact": {
                "type": "object",
                "required": ["id", "name", "phone"],
                "properties": {"id": ID, "name": {"type": "string"}, "phone": nullable({"type": "string"})},
            },
            "channel": enum_of(Channel),
            "status": enum_of(ConversationStatus),
            "priority": enum_of(Priority),
            "assigned_to": nullable({**ID, "description": "The assigned agent's id."}),
            "tags": {"type": "array", "items": {"type": "string"}},
            "custom_fields": CUSTOM_FIELDS,
            "started_at": nullable(TIMESTAMP),
            "closed_at": nullable(TIMESTAMP),
            "last_inbound_at": nullable(
                {**TIMESTAMP, "description": "Free text can be sent until 24 hours after this."}
            ),
            "last_message_at": TIMESTAMP,
            "snoozed_at": nullable({**TIMESTAMP, "description": "When an agent snoozed it; null when it is not snoozed."}),
            "snoozed_until": nullable(
                {
                    **TIMESTAMP,
                    "description": "When a snoozed conversation comes back to the open lists. Null when it is "
                    "not snoozed (`snoozed_at` null) or, while snoozed, when it sleeps until the customer writes.",
                }
            ),
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        },
    },
    "ConversationUpdate": {
        "type": "object",
        "description": "Only the fields sent change; all of them or none (a refused change leaves the rest undone).",
        "properties": {
            "status": enum_of(ConversationStatus),
            "priority": enum_of(Priority),
            "assigned_to": nullable(
                {
                    **ID,
                    "description": "An agent id, or null to unassign. Agents may only take an unassigned "
                    "conversation for themselves or release their own (403 otherwise).",
                }
            ),
            "tags": {
                "type": "array",
                "description": "Replaces the conversation's tags; unknown tags are created.",
                "items": {"type": "string", "minLength": 1, "maxLength": TAG_NAME_MAX_LENGTH, "pattern": r"\S"},
            },
            "custom_fields": {**CUSTOM_FIELDS_INPUT, "description": CUSTOM_FIELDS_INPUT["description"]
                              + " Only the keys sent change; emits the CRM event conversation.updated."},
        },
    },
    "ConversationPage": page_of("Conversation"),
    "ConversationStart": {
        "type": "object",
        "required": ["inbox_id"],
        "description": "Who: `contact_id`, or `contact` with a phone (any format; a new contact is created "
        "when nobody has it). What: `template_id` with its `params`, or `body` (free text, accepted only "
        "while the channel allows it: on WhatsApp within 24 hours of the customer's last message).",
        "properties": {
            "inbox_id": {**ID, "description": "One of the token agent's inboxes (any inbox for supervisors)."},
            "contact_id": ID,
            "contact": {
                "type": "object",
                "required": ["phone"],
                "properties": {
                    "phone": {"type": "string", "maxLength": 40},
                    "name": {"type": "string", "maxLength": 200, "description": "For a new contact; the number if absent."},
                },
            },
            "template_id": {**ID, "description": "An approved template of the inbox's business account."},
            "params": {
                "type": "array",
                "items": {"type": "string", "maxLength": 1000},
                "description": "The template's {{1}}, {{2}}... in order; each must be filled in.",
            },
            "header": {
                "type": "object",
                "description": "A template with a header to fill: `text` for a text header's {{1}}, or `link` "
                "(https) for an image, video or document header (`filename` shown for a document).",
                "properties": {
                    "text": {"type": "string", "maxLength": 1000},
                    "link": {"type": "string", "format": "uri", "maxLength": 2000},
                    "filename": {"type": "string", "maxLength": 255},
                },
            },
            "buttons": {
                "type": "array",
                "items": {"type": "string", "maxLength": 1000},
                "description": "One value per button that takes one, in order: a URL button's {{1}}, a copy code.",
            },
            "body": {"type": "string", "maxLength": MAX_TEXT_LENGTH},
        },
    },
    "ConversationStarted": {
        "type": "object",
        "required": ["conversation", "message"],
        "properties": {"conversation": ref("Conversation"), "message": ref("Message")},
    },
    "Message": {
        "type": "object",
        "required": [
            "id", "conversation_id", "direction", "message_type", "body", "media_url", "status", "sent_at",
            "sender_agent_id", "is_automatic", "error_code", "error_title",
        ],
        "properties": {
            "id": ID,
            "conversation_id": ID,
            "direction": enum_of(Direction),
            "message_type": {
                "type": "string",
                "description": "WhatsApp's type: text, image, template...; for direction `internal` (never "
                "sent), `note` (an agent's note; a transfer's note carries `transfer`) or `activity` (a "
                "snooze began or ended: `activity`).",
            },
            "body": {"type": "string"},
            "media_url": nullable({"type": "string"}),
            "status": enum_of(MessageStatus),
            "sent_at": TIMESTAMP,
            "sender_agent_id": nullable({**ID, "description": "The agent who wrote it; null for the customer."}),
            "is_automatic": {"type": "boolean", "description": "Sent by an auto-rule."},
            "error_code": nullable({"type": "integer"}),
            "error_title": nullable({"type": "string", "description": "Why sending failed."}),
            "transfer": nullable({
                "type": "object",
                "description": "On a transfer's note: who had the conversation (null: no one) and who received it.",
                "properties": {"from": nullable(ID), "to": ID},
            }),
            "activity": nullable({
                "type": "object",
                "description": "On an activity line: `snoozed` (with `until`, null meaning until the customer "
                "writes), `unsnoozed`, or `snooze_ended` (with `reason`: `time` or `customer`).",
            }),
        },
    },
    "NoteCreate": {
        "type": "object",
        "required": ["body"],
        "properties": {"body": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE_LENGTH, "pattern": r"\S"}},
    },
    "MessageCreate": {
        "type": "object",
        "required": ["body"],
        "properties": {"body": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_LENGTH, "pattern": r"\S"}},
    },
    "AttachmentCreate": {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "description": "WhatsApp: images JPEG or PNG up to 5 MB; audio AAC, AMR, MP3, M4A or OGG (Opus) up "
                "to 16 MB; video MP4 or 3GP up to 16 MB; documents PDF, Word, Excel, PowerPoint or text up to 100 MB. "
                "The kind is read from the content; the file name's extension and the part's type must agree with it.",
            },
            "caption": {"type": "string", "maxLength": 1024, "description": "Not for audio."},
            "voice": {
                "type": "string",
                "enum": ["true", "false"],
                "description": "`true`: an OGG/Opus audio sent as a voice note.",
            },
        },
    },
    "MessagePage": page_of("Message"),
    "Tag": {"type": "object", "required": ["id", "name"], "properties": {"id": ID, "name": {"type": "string"}}},
    "TagCreate": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": TAG_NAME_MAX_LENGTH,
                "pattern": r"\S",
                "description": "Stored lower-case with single spaces.",
            }
        },
    },
    "TagPage": page_of("Tag"),
    "QuickReply": {
        "type": "object",
        "required": ["id", "shortcut", "body", "shared", "attachment"],
        "properties": {
            "id": ID,
            "shortcut": {"type": "string", "description": "Typed after / in the portal's reply box."},
            "body": {
                "type": "string",
                "description": "With its variables unfilled: {{contact.first_name}}, {{contact.name}}, "
                "{{agent.name}}, {{agent.first_name}}.",
            },
            "shared": {"type": "boolean", "description": "Kept by supervisors for everyone; false: the agent's own."},
            "attachment": nullable(
                {
                    "type": "object",
                    "description": "The file the portal sends with the reply (its text as the caption, or as a "
                    "message of its own first when it does not fit one); null when it has none.",
                    "required": ["filename", "mime_type", "size"],
                    "properties": {
                        "filename": {"type": "string"},
                        "mime_type": {"type": "string"},
                        "size": {"type": "integer", "description": "Bytes."},
                    },
                }
            ),
        },
    },
    "QuickReplyPage": page_of("QuickReply"),
}


def _error_response(description: str) -> Schema:
    return json_body(ref("Error"), description)


RESPONSES: dict[str, Schema] = {
    "BadRequest": _error_response("The body is not a JSON object."),
    "Unauthorized": {
        **_error_response("No valid API token: missing, unknown, revoked, or its agent is inactive."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer."}},
    },
    "Forbidden": _error_response("The agent's role does not allow this (see the operation's description)."),
    "NotFound": _error_response("No such resource."),
    "Conflict": _error_response("The change conflicts with existing data."),
    "Invalid": _error_response("Fields or query parameters are not valid; `error.fields` says which and why."),
    "TooLarge": _error_response("The file is over the channel's size for its kind (`too_large`); a body over the "
                                "largest is refused before it is read."),
}

PARAMETERS: dict[str, Schema] = {
    "limit": query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        "Items per page.",
    ),
    "cursor": query("cursor", {"type": "string"}, "The `next_cursor` of the previous page."),
}

CONTACT_ID = path_id("contact_id", "contact")
CONVERSATION_ID = path_id("conversation_id", "conversation")

PATHS: dict[str, Schema] = {
    "/contacts": {
        "get": {
            "operationId": "listContacts",
            "tags": ["contacts"],
            "summary": "Search contacts",
            "description": "Ordered by id. Any agent sees every contact.",
            "parameters": [
                query("q", {"type": "string"}, "Matches name, e-mail, city, a phone in any format, or a custom "
                      "field (text, URL, option, or the digits of a CPF or CNPJ)."),
                *PAGE_PARAMETERS,
            ],
            "responses": {"200": json_body(ref("ContactPage"), "A page of contacts."), **errors(401, 422)},
        },
        "post": {
            "operationId": "createContact",
            "tags": ["contacts"],
            "summary": "Create a contact",
            "description": "Emits the CRM event contact.created.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("ContactCreate")}}},
            "responses": {
                "201": {
                    **json_body(ref("Contact"), "Created."),
                    "headers": {"Location": {"schema": {"type": "string"}, "description": "The contact's URL."}},
                },
                **errors(400, 401, 409, 422),
            },
        },
    },
    "/contacts/{contact_id}": {
        "parameters": [CONTACT_ID],
        "get": {
            "operationId": "getContact",
            "tags": ["contacts"],
            "summary": "Read a contact",
            "responses": {"200": json_body(ref("Contact"), "The contact."), **errors(401, 404)},
        },
        "patch": {
            "operationId": "updateContact",
            "tags": ["contacts"],
            "summary": "Change a contact",
            "description": "Emits the CRM event contact.updated when something changed. Changing the phone "
            "needs a supervisor, or an agent who may see every open conversation of the contact (403 "
            "otherwise); an open conversation keeps replying to the WhatsApp id the customer wrote from.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("ContactUpdate")}}},
            "responses": {"200": json_body(ref("Contact"), "The contact."), **errors(400, 401, 403, 404, 409, 422)},
        },
        "delete": {
            "operationId": "deleteContact",
            "tags": ["contacts"],
            "summary": "Delete a contact",
            "description": "Supervisors and admins only. A contact with conversations cannot be deleted "
            "(409): merge it into another contact in the portal instead.",
            "responses": {"204": {"description": "Deleted."}, **errors(401, 403, 404, 409)},
        },
    },
    "/conversations": {
        "get": {
            "operationId": "listConversations",
            "tags": ["conversations"],
            "summary": "List conversations",
            "description": "Ordered by id. Agents see conversations assigned to them or unassigned; "
            "supervisors and admins see all.",
            "parameters": [
                query("status", enum_of(ConversationStatus), "Only this status."),
                query("priority", enum_of(Priority), "Only this priority."),
                query("tag", {"type": "string"}, "Only conversations with this tag."),
                query(
                    "assignee",
                    {"type": "string", "pattern": r"^(me|unassigned|[1-9][0-9]{0,17})$"},
                    '"me", "unassigned", or an agent id.',
                ),
                query("contact_id", ID, "Only this contact's conversations."),
                *PAGE_PARAMETERS,
            ],
            "responses": {"200": json_body(ref("ConversationPage"), "A page of conversations."), **errors(401, 422)},
        },
        "post": {
            "operationId": "startConversation",
            "tags": ["conversations"],
            "summary": "Write first: start (or continue) a conversation with a contact",
            "description": "Reuses the contact's open conversation in the inbox, else opens one assigned to "
            "the token's agent, and queues the first message (status `queued`). 422 with code "
            "`cannot_send` when the channel refuses it: free text outside the 24-hour window, a "
            "template whose parameters are not all filled in, a disabled inbox, or an open "
            "conversation a colleague handles.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("ConversationStart")}}},
            "responses": {
                "201": {
                    **json_body(ref("ConversationStarted"), "Started; the message is queued."),
                    "headers": {"Location": {"schema": {"type": "string"}, "description": "The conversation's URL."}},
                },
                **errors(400, 401, 422),
            },
        },
    },
    "/conversations/{conversation_id}": {
        "parameters": [CONVERSATION_ID],
        "get": {
            "operationId": "getConversation",
            "tags": ["conversations"],
            "summary": "Read a conversation",
            "description": "403 when an agent asks for a conversation assigned to someone else.",
            "responses": {"200": json_body(ref("Conversation"), "The conversation."), **errors(401, 403, 404)},
        },
        "patch": {
            "operationId": "updateConversation",
            "tags": ["conversations"],
            "summary": "Change status, priority, assignee or tags",
            "description": "Each change is audited and emits its CRM event. 409 when reopening a "
            "conversation whose contact already has another open one.",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("ConversationUpdate")}},
            },
            "responses": {
                "200": json_body(ref("Conversation"), "The conversation."),
                **errors(400, 401, 403, 404, 409, 422),
            },
        },
    },
    "/conversations/{conversation_id}/messages": {
        "parameters": [CONVERSATION_ID],
        "get": {
            "operationId": "listMessages",
            "tags": ["messages"],
            "summary": "List a conversation's messages",
            "description": "Oldest first.",
            "parameters": PAGE_PARAMETERS,
            "responses": {
                "200": json_body(ref("MessagePage"), "A page of messages."),
                **errors(401, 403, 404, 422),
            },
        },
        "post": {
            "operationId": "sendMessage",
            "tags": ["messages"],
            "summary": "Send a text reply",
            "description": "Queued and sent by a worker (status `queued`, then `sent`...). WhatsApp accepts "
            "free text only within 24 hours of the customer's last message; outside it the answer is "
            "422 with code `cannot_send` (send an approved template from the portal).",
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("MessageCreate")}}},
            "responses": {
                "202": json_body(ref("Message"), "Queued for sending."),
                **errors(400, 401, 403, 404, 422),
            },
        },
    },
    "/conversations/{conversation_id}/attachments": {
        "parameters": [CONVERSATION_ID],
        "post": {
            "operationId": "sendAttachment",
            "tags": ["messages"],
            "summary": "Send an image, audio, video or document",
            "description": "Checked from its content against WhatsApp's types and sizes, then queued and sent by a "
            "worker like a text reply (uploaded to WhatsApp, then sent by its media id). Outside the 24-hour window, "
            "or for a file that does not fit, the answer is 422 with code `cannot_send`.",
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": ref("AttachmentCreate")}}},
            "responses": {
                "202": json_body(ref("Message"), "Queued for sending."),
                **errors(401, 403, 404, 413, 422),
            },
        },
    },
    "/conversations/{conversation_id}/notes": {
        "parameters": [CONVERSATION_ID],
        "post": {
            "operationId": "addNote",
            "tags": ["messages"],
            "summary": "Write an internal note",
            "description": "A note only the team sees, never sent to the customer (direction `internal`, "
            "message_type `note`); `@Full Name` mentions an agent who may see the conversation (422 for "
            "anyone else).",
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("NoteCreate")}}},
            "responses": {
                "201": json_body(ref("Message"), "The note."),
                **errors(400, 401, 403, 404, 422),
            },
        },
    },
    "/tags": {
        "get": {
            "operationId": "listTags",
            "tags": ["tags"],
            "summary": "List tags",
            "parameters": PAGE_PARAMETERS,
            "responses": {"200": json_body(ref("TagPage"), "A page of tags."), **errors(401, 422)},
        },
        "post": {
            "operationId": "createTag",
            "tags": ["tags"],
            "summary": "Create a tag",
            "description": "Any agent: agents already create tags by tagging a conversation.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("TagCreate")}}},
            "responses": {"201": json_body(ref("Tag"), "Created."), **errors(400, 401, 409, 422)},
        },
    },
    "/quick-replies": {
        "get": {
            "operationId": "listQuickReplies",
            "tags": ["quick replies"],
            "summary": "List the quick replies the agent may insert",
            "description": "The shared ones and the token's agent's own.",
            "parameters": PAGE_PARAMETERS,
            "responses": {"200": json_body(ref("QuickReplyPage"), "A page of quick replies."), **errors(401, 422)},
        },
    },
    "/openapi.json": {
        "get": {
            "operationId": "getOpenApiDocument",
            "tags": ["meta"],
            "summary": "This document",
            "security": [],
            "responses": {"200": json_body({"type": "object"}, "The OpenAPI document.")},
        }
    },
}

DOCUMENT: Schema = {
    "openapi": "3.1.0",
    "info": {
        "title": "Atende API",
        "version": "1.0.0",
        "description": (
            "Contacts, conversations, messages and tags of an Atende help desk.\n\n"
            "**Authentication**: every call but this document needs `Authorization: Bearer <token>`. "
            "Agents create and revoke their tokens on their profile page (Profile -> API tokens); a "
            "token acts as its agent, with the same role scopes as the portal. Browser sessions do "
            "not authenticate API calls.\n\n"
            "**Errors** are JSON: `{\"error\": {\"code\": \"...\", \"message\": \"...\"}}`, plus "
            "`fields` on 422 validation errors.\n\n"
            "**Pagination**: lists answer `{\"data\": [...], \"next_cursor\": ...}`; pass `cursor` "
            "to get the next page."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearerAuth": []}],
    "tags": [{"name": name} for name in ("contacts", "conversations", "messages", "tags", "quick replies", "meta")],
    "paths": PATHS,
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "atd_ followed by 43 random characters",
            }
        },
        "schemas": SCHEMAS,
        "responses": RESPONSES,
        "parameters": PARAMETERS,
    },
}


@bp.route("/openapi.json", methods=["GET"])
@public
def openapi_document():
    return jsonify(DOCUMENT)
