"""The dashboard's forms, one module per thing a form edits.

- inputs: day-first dates, a 24-hour clock, the days of the week (shared by the others);
- campaign: a campaign (the wizard) and its test message;
- automation: an automation (the wizard, with when it sends);
- sender: a WhatsApp number;
- contacts: a contacts file to import, and a contact's dates and own data.
"""

from goteo.web.forms.automation import AutomationForm
from goteo.web.forms.campaign import CampaignForm, TestMessageForm
from goteo.web.forms.contacts import AttributeFormSet, ContactDatesForm, ImportForm
from goteo.web.forms.inputs import DAY_CHOICES
from goteo.web.forms.sender import SenderForm

__all__ = [
    "DAY_CHOICES",
    "AttributeFormSet",
    "AutomationForm",
    "CampaignForm",
    "ContactDatesForm",
    "ImportForm",
    "SenderForm",
    "TestMessageForm",
]
