"""A new customer and their site, entered on the call: name, phone, e-mail, address and position.

Saved by ``Core.create_customer`` in a thread worker: checked like an imported customer, the phone number
read by ``phonenumbers``, the position the one typed or the geocoder's for the address (when
``geocoder_url`` is set). A refusal stays in the dialog with every reason, to be corrected there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from dispatch_tui.tui.widgets.form_row import FormRow

if TYPE_CHECKING:
    from dispatch_tui.services.intake.customers import NewCustomer

FIELDS = (
    ("name", "name", "the customer's name (or company)"),
    ("phone", "phone", "as the customer says it: 06 12 34 56 78, +44 20 7946 0958"),
    ("email", "e-mail", "optional"),
    ("address", "address", "the site's street address"),
    ("lat", "latitude", "e.g. 45.7640 — blank with lon: the geocoder finds it (DISPATCH_GEOCODER_URL)"),
    ("lon", "longitude", "e.g. 4.8357"),
)


class NewCustomerScreen(ModalScreen["NewCustomer | None"]):
    """Dismissed with the customer created, or None (Esc: back to the lookup)."""

    CSS_PATH = ["dialog.tcss", "new_customer.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Back"),
        Binding("ctrl+s", "save", "Save"),
    ]

    class Created(Message):
        def __init__(self, customer: NewCustomer) -> None:
            self.customer = customer
            super().__init__()

    class NotSaved(Message):
        def __init__(self, reason: str) -> None:
            self.reason = reason
            super().__init__()

    def __init__(self, create: Callable[..., NewCustomer], prefill: dict[str, Any] | None = None) -> None:
        """``create``: ``Core.create_customer``; ``prefill``: field → text already known (what was looked up)."""
        super().__init__()
        self.create = create
        self.prefill = prefill or {}
        self.saving = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "New customer"
            for key, label, placeholder in FIELDS:
                yield FormRow(label, Input(self.prefill.get(key, ""), placeholder=placeholder, id=f"customer-{key}"))
            yield Static("", id="customer-problems", markup=False)
            yield Static("enter: next field (on the last: save) · ctrl+s: save · esc: back to the lookup",
                         classes="hint", markup=False)  # fmt: skip

    def on_mount(self) -> None:
        empty = next((box for box in self.query(Input).results(Input) if not box.value), None)
        (empty or self.query_one("#customer-name", Input)).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = list(self.query(Input).results(Input))
        here = inputs.index(event.input)
        if here + 1 < len(inputs):
            inputs[here + 1].focus()
        else:
            self.action_save()

    def action_save(self) -> None:
        if self.saving:
            return
        values = {key: self.query_one(f"#customer-{key}", Input).value.strip() for key, _, _ in FIELDS}
        position: dict[str, float | None] = {}
        problems = []
        for key in ("lat", "lon"):
            try:
                position[key] = float(values[key].replace(",", ".")) if values[key] else None
            except ValueError:
                problems.append(f"{key}: {values[key]!r} is not a number (degrees, like 45.7640)")
        if problems:
            self._problem("\n".join(problems))
            return
        self.saving = True
        self._problem("Saving…", error=False)
        self.save(values["name"], values["phone"] or None, values["email"] or None, values["address"] or None,
                  position["lat"], position["lon"])  # fmt: skip

    @work(thread=True, exclusive=True, group="new-customer")
    def save(self, name: str, phone: str | None, email: str | None, address: str | None, lat: float | None,
             lon: float | None) -> None:  # fmt: skip
        from dispatch_tui.tui.calls import refusal_text

        try:
            made = self.create(name=name, phone=phone, email=email, address=address, lat=lat, lon=lon)
        except Exception as exc:  # noqa: BLE001 - a refusal or a store failure: shown here, nothing saved
            self.post_message(self.NotSaved(refusal_text(exc)))
            return
        self.post_message(self.Created(made))

    def on_new_customer_screen_created(self, message: Created) -> None:
        self.saving = False
        self.dismiss(message.customer)

    def on_new_customer_screen_not_saved(self, message: NotSaved) -> None:
        self.saving = False
        self._problem(message.reason)

    def _problem(self, text: str, *, error: bool = True) -> None:
        self.query_one("#customer-problems", Static).update(Text(text, style="bold red" if error else "dim"))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
