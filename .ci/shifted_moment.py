"""Print the moment CI's second run of the suite starts its (faked) system clock at: a few minutes before
the first daylight-saving change in Europe/Paris (the suite's zone) that is at least a year from now, as
faketime reads it (local time of this machine, "YYYY-MM-DD hh:mm:ss")."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
moment = datetime.now(UTC) + timedelta(days=365)
offset = moment.astimezone(PARIS).utcoffset()
while moment.astimezone(PARIS).utcoffset() == offset:  # hour by hour to the change (at most ~8 months)
    moment += timedelta(hours=1)
change = moment.replace(minute=0, second=0, microsecond=0)  # Europe/Paris changes on the hour, UTC
print((change - timedelta(minutes=5)).astimezone().strftime("%Y-%m-%d %H:%M:%S"))
