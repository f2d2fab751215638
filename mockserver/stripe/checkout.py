"""The hosted checkout page: `GET /checkout/{id}` shows the amount with Pay and Decline buttons.

Pay completes the session with the chosen test card and 303-redirects to `success_url`
(`{CHECKOUT_SESSION_ID}` filled in); a declined test card shows the page again with the error.
Decline expires the session and redirects to `cancel_url`. An unknown session is a 404 page, a
finished one a 409 page — never a crash.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template
from typing import Any

from aiohttp import web

from . import sessions
from .errors import NotFound, StripeError
from .fake import FakeStripe

_HERE = Path(__file__).parent
PAGE = Template((_HERE / "checkout.html").read_text(encoding="utf-8"))
MESSAGE = Template((_HERE / "message.html").read_text(encoding="utf-8"))
# Test cards offered on the page (name in `cards.CARDS` → label).
CARD_CHOICES = {
    "visa": "Visa •••• 4242 — succeeds",
    "threeDSecure2Required": "Visa •••• 3220 — asks for 3-D Secure, passes",
    "chargeDeclined": "Visa •••• 0002 — declined",
    "chargeDeclinedInsufficientFunds": "Visa •••• 9995 — insufficient funds",
}
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf",
                "xof", "xpf"}
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}


def format_amount(amount: int, currency: str) -> str:
    """`1999, "usd"` → `$19.99`; zero-decimal currencies (jpy…) are shown as they are."""
    value = amount if currency in ZERO_DECIMAL else amount / 100
    number = f"{value:,.0f}" if currency in ZERO_DECIMAL else f"{value:,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency.upper()}"


def message_page(status: int, title: str, message: str) -> web.Response:
    """A small HTML page explaining what went wrong (or that the payment was canceled)."""
    html = MESSAGE.substitute(title=escape(title), message=escape(message), status=status)
    return web.Response(text=html, status=status, content_type="text/html")


def _page(page_path: str, session: dict[str, Any], items: list[dict[str, Any]], *, error: str | None = None,
          card: str = "visa", email: str | None = None, status: int = 200) -> web.Response:
    currency = session["currency"]
    rows = "\n    ".join(
        f"<tr><td>{escape(str(item['description']))} × {item['quantity']}</td>"
        f"<td class=\"num\">{escape(format_amount(item['amount_total'], currency))}</td></tr>" for item in items)
    options = "\n      ".join(
        f"<option value=\"{name}\"{' selected' if name == card else ''}>{escape(label)}</option>"
        for name, label in CARD_CHOICES.items())
    base = page_path.rstrip("/")
    html = PAGE.substitute(
        total=escape(format_amount(session["amount_total"], currency)), rows=rows, card_options=options,
        error=f"<p class=\"error\" role=\"alert\" id=\"error\">{escape(error)}</p>" if error else "",
        email=escape(email or session.get("customer_email") or ""), session_id=escape(session["id"]),
        pay_action=escape(f"{base}/pay"), decline_action=escape(f"{base}/decline"))
    return web.Response(text=html, status=status, content_type="text/html")


def _see_other(url: str, session_id: str) -> web.Response:
    """The 303 to `url` (its `{CHECKOUT_SESSION_ID}` filled in). Returned, not raised: with a state
    file, the twin sends a returned answer only once the change is saved (a 503 if it could not
    be), a raised one whatever the save did."""
    return web.Response(status=303, text="303: See Other",
                        headers={"Location": url.replace("{CHECKOUT_SESSION_ID}", session_id)})


def checkout_routes(fake: FakeStripe) -> list[web.RouteDef]:
    """The hosted page's routes (relative to the `/stripe` mount)."""
    store = fake.store

    def open_session(session_id: str) -> dict[str, Any] | web.Response:
        try:
            session = sessions.retrieve(store, session_id)
        except NotFound:
            return message_page(404, "Checkout session not found",
                                f"There is no checkout session {session_id}. Check the link you followed.")
        if session["status"] != "open":
            done = "has already been paid" if session["status"] == "complete" else "has expired"
            return message_page(409, "This checkout session is closed", f"Checkout session {session_id} {done}.")
        return session

    async def show(request: web.Request) -> web.Response:
        session = open_session(request.match_info["id"])
        if isinstance(session, web.Response):
            return session
        return _page(request.path, session, store.line_items[session["id"]])

    async def pay(request: web.Request) -> web.Response:
        session_id = request.match_info["id"]
        session = open_session(session_id)
        if isinstance(session, web.Response):
            return session
        try:
            form = await request.post()
        except (ValueError, UnicodeDecodeError):
            return message_page(400, "Unreadable form", "The payment form could not be read; reload the page.")
        card = str(form.get("card") or "visa")
        email = str(form.get("email") or "") or None
        if card not in CARD_CHOICES:
            return message_page(400, "Unknown test card", f"Choose one of: {', '.join(CARD_CHOICES)}.")
        try:
            session, error = sessions.complete(store, session_id, card, email)
        except StripeError as failure:
            return message_page(failure.status, "Payment not possible", failure.message)
        if error is not None:
            return _page(request.path.rsplit("/", 1)[0], session, store.line_items[session_id],
                         error=error.message, card=card, email=email, status=402)
        return _see_other(session["success_url"], session_id)

    async def decline(request: web.Request) -> web.Response:
        session_id = request.match_info["id"]
        session = open_session(session_id)
        if isinstance(session, web.Response):
            return session
        session = sessions.expire(store, session_id)
        if session.get("cancel_url"):
            return _see_other(session["cancel_url"], session_id)
        return message_page(200, "Payment canceled", "You declined the payment; nothing was charged.")

    return [
        web.get("/checkout/{id}", show),
        web.post("/checkout/{id}/pay", pay),
        web.post("/checkout/{id}/decline", decline),
    ]
