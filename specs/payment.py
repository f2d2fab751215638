"""Which part of the guides' shared payment flow an API plays (`x-twin-payment`).

Every guide generates, per order object, `start<Order>Payment`, `refresh<Order>Payment` and
`callback<Order>Payment`: APIs acting on the order whose answer carries `paymentResult`. The guide
states the role only in the API's name, so it is read from there, here and nowhere else; the twin
and the judge read the spec's `x-twin-payment`.
"""

from __future__ import annotations

from collections.abc import Iterable

from .extensions import PAYMENT_ROLES, PaymentRole
from .model import Api


def payment_role(api: Api) -> PaymentRole | None:
    """`start`, `refresh` or `callback` for an API of the payment flow, else None."""
    if not api.data_object or "paymentResult" not in api.response.extra_keys:
        return None
    return next((role for role in PAYMENT_ROLES if api.name.startswith(role)), None)


def order_parameter(body: Iterable[str], order: str) -> str:
    """The callback's body parameter naming the order (`reservationId` for `reservation`): the body
    parameter ending in `Id` that names the order object, else `<order>Id`."""
    return next((name for name in body if name.endswith("Id") and order.lower() in name.lower()), f"{order}Id")
