"""Stripe's test cards: the magic payment methods (`pm_card_visa`), tokens (`tok_visa`) and numbers
(4242…) and what confirming a payment with each one does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """What charging the card does: succeed, decline (with Stripe's codes) or ask for 3-D Secure."""

    kind: str  # "succeed" | "decline" | "authenticate"
    code: str | None = None
    decline_code: str | None = None
    message: str = ""
    param: str | None = None


SUCCEED = Outcome("succeed")
AUTHENTICATE = Outcome("authenticate")


def _decline(decline_code: str, message: str = "Your card was declined.") -> Outcome:
    return Outcome("decline", "card_declined", decline_code, message)


@dataclass(frozen=True)
class CardSpec:
    """One test card: what its payment method shows (brand, last4…) and how it behaves."""

    number: str
    brand: str
    outcome: Outcome = SUCCEED
    funding: str = "credit"
    country: str = "US"

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def fingerprint(self) -> str:
        """Stable per number, as Stripe's fingerprint is per card."""
        return hashlib.sha256(self.number.encode()).hexdigest()[:16]


# Name → card; `pm_card_<name>` and `tok_<name>` both resolve to it (Stripe's testing page).
CARDS: dict[str, CardSpec] = {
    "visa": CardSpec("4242424242424242", "visa"),
    "visa_debit": CardSpec("4000056655665556", "visa", funding="debit"),
    "mastercard": CardSpec("5555555555554444", "mastercard"),
    "amex": CardSpec("378282246310005", "amex"),
    "discover": CardSpec("6011111111111117", "discover"),
    "chargeDeclined": CardSpec("4000000000000002", "visa", _decline("generic_decline")),
    "chargeDeclinedInsufficientFunds": CardSpec(
        "4000000000009995", "visa", _decline("insufficient_funds", "Your card has insufficient funds.")),
    "chargeDeclinedLostCard": CardSpec("4000000000009987", "visa", _decline("lost_card")),
    "chargeDeclinedStolenCard": CardSpec("4000000000009979", "visa", _decline("stolen_card")),
    "chargeDeclinedFraudulent": CardSpec("4100000000000019", "visa", _decline("fraudulent")),
    "chargeDeclinedExpiredCard": CardSpec(
        "4000000000000069", "visa", Outcome("decline", "expired_card", "expired_card", "Your card has expired.",
                                            "exp_month")),
    "chargeDeclinedIncorrectCvc": CardSpec(
        "4000000000000127", "visa", Outcome("decline", "incorrect_cvc", "incorrect_cvc",
                                            "Your card's security code is incorrect.", "cvc")),
    "chargeDeclinedProcessingError": CardSpec(
        "4000000000000119", "visa", Outcome("decline", "processing_error", "processing_error",
                                            "An error occurred while processing your card. Try again in a little bit.")),
    "authenticationRequired": CardSpec("4000002760003184", "visa", AUTHENTICATE),
    "threeDSecure2Required": CardSpec("4000000000003220", "visa", AUTHENTICATE),
    "authenticationRequiredOnSetup": CardSpec("4000002500003155", "visa", AUTHENTICATE),
}
_BY_NUMBER = {card.number: card for card in CARDS.values()}
MAGIC_PREFIX = "pm_card_"


def magic_payment_method(pm_id: str) -> CardSpec | None:
    """The card behind a magic id such as `pm_card_chargeDeclined` (None for ordinary ids)."""
    return CARDS.get(pm_id[len(MAGIC_PREFIX):]) if pm_id.startswith(MAGIC_PREFIX) else None


def token(tok: str) -> CardSpec | None:
    """The card behind a test token such as `tok_visa`."""
    return CARDS.get(tok[4:]) if tok.startswith("tok_") else None


def luhn_valid(number: str) -> bool:
    """The card-number checksum every real (and test) number satisfies."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number.startswith(("6011", "65")):
        return "discover"
    return "unknown"


def by_number(number: str) -> CardSpec | None:
    """A listed test number, or any other Luhn-valid number as a card that succeeds; None if invalid."""
    number = number.replace(" ", "").replace("-", "")
    if number in _BY_NUMBER:
        return _BY_NUMBER[number]
    return CardSpec(number, _brand(number)) if luhn_valid(number) else None
