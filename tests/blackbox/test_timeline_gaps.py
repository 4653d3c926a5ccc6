"""Issue 15, what the timeline left: ladder steps to units that closed, `thiduad -n` over
every day of a span, and the predecessor marker in thiduactl's text and exports."""
import os
import tempfile

from harness import CONFIG, Daemon, eq, write

SHIPPED = open(CONFIG, encoding="utf-8").read()

# a commune split in two on 1 July 2025 (several successors)
SPLIT = '''units = (
  { code = "XA-TACH"; name = "Ủy ban nhân dân xã Tách"; level = "commune"; parent = "CUCHI"; kind = "commune";
    active_from = "2023-11-09"; active_to = "2025-06-30"; successors = [ "XA-ANNHONTAY-2025", "XA-PHUHOADONG-2025" ]; },
'''

# owed by an enterprise (its district closes with no successor) and a hamlet (its commune
# merges into XA-PHUHOADONG-2025), due before the reorganisation, chased after it
LADDER = '''report_types = (
  { code = "T-CHASE"; name = "Báo cáo thử";
    receiver = "HCM-SGDDT";
    submitters = { units = [ "DN-MAYMAC-TPT", "AP-PHD-PHULOI" ]; };
    once = { period = "2025-Q2"; due = "2025-06-20"; opens = "2025-06-01"; };
    late_until_days = 60;
    escalation = ( { after = "10wd"; to = [ "parent", "unit:XA-ANPHU", "unit:XA-TACH", "level:commune" ]; } );
  },
'''


def test_a_ladder_step_to_a_closed_unit_reaches_its_successor_or_is_dropped_in_sight():
    text = SHIPPED.replace("units = (\n", SPLIT, 1).replace("report_types = (\n", LADDER, 1)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "thidua.cfg")
        write(cfg, text)
        with Daemon(config=cfg, start_at="2025-06-10T09:00:00+07:00") as d:
            # the step falls on 4 July 2025, ten working days after the due date
            d.ctl("clock", "set", "2025-07-04T09:30:00+07:00")
            con = d.db()
            rows = con.execute("SELECT o.unit, n.recipient FROM notices n JOIN obligations o ON o.id = n.obligation"
                               " WHERE o.report = 'T-CHASE' ORDER BY o.unit, n.recipient").fetchall()
            con.close()
            eq(sorted(rows), sorted([
                # the hamlet: its parent and the split commune's half over it, the merged commune's successor
                ("AP-PHD-PHULOI", "XA-ANNHONTAY-2025"),
                ("AP-PHD-PHULOI", "XA-PHUHOADONG-2025"),
                # the enterprise: XA-ANPHU's only successor; its district and the split commune have none over it
                ("DN-MAYMAC-TPT", "XA-ANNHONTAY-2025"),
            ]), "no notice to a unit closed on the step's day")
            r = d.ctl("audit", "list", "--unit", "DN-MAYMAC-TPT")["rows"]
            dropped = sorted((x["detail"]["to"], x["detail"]["closed_unit"]) for x in r if x["op"] == "notice.dropped")
            eq(dropped, [("parent", "CUCHI"), ("unit:XA-TACH", "XA-TACH")],
               "the district closed with no successor; no half of the split commune is over the enterprise")
            assert all(x["detail"]["report"] == "T-CHASE" and x["detail"]["closed"] == "2025-06-30"
                       for x in r if x["op"] == "notice.dropped"), r
            log = d.read_log()
            assert "T-CHASE 2025-Q2 of DN-MAYMAC-TPT: step" in log and "to parent dropped: CUCHI" in log, log
            r = d.ctl("audit", "list", "--unit", "AP-PHD-PHULOI")["rows"]
            assert not [x for x in r if x["op"] == "notice.dropped"], r
