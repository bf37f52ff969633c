"""Small, hand-checkable import files used across the import tests: the requests and the absence are on
``DAY`` (tests/clock.py), the Tuesday ahead."""
# ruff: noqa: E501
# CSV rows are kept whole so that line numbers in the tests are easy to check

from tests.clock import DAY, offset

D = DAY.isoformat()
OFFSET = offset(DAY)  # R2 gives its window with the zone's offset, the others as local time

TECHNICIANS = """ref,name,skills,home_lat,home_lon,shift_start,shift_end,break_start,break_minutes,hourly_cost,phone,email,territory
T1,Ana Silva,boiler;hvac,45.7600,4.8400,08:00,17:00,12:00,30,42.50,+33 4 00 00 00 01,ana.silva@example.test,centre
T2,Ben Okafor,plumbing,45.7800,4.8700,07:00,15:30,,,38.00,+33 4 00 00 00 02,ben.okafor@example.test,north
"""

CUSTOMERS = """ref,name,address,lat,lon,phone,email,contract
C1,Claire Dubois,12 Rue Garibaldi,45.7590,4.8520,+33 6 00 00 00 01,claire@example.test,
C2,Harbour Bakery,3 Quai Rambaud,45.7430,4.8180,+33 4 00 00 00 09,,gold
"""

REQUESTS = f"""ref,customer_ref,skill,duration_min,priority,window_start,window_end,due_by,description,source,lat,lon,address
R1,C1,boiler,60,2,{D}T09:00,{D}T11:00,,No heat,phone,,,
R2,C2,plumbing,45,3,{D}T13:00{OFFSET},{D}T15:00{OFFSET},{D}T18:00,Dripping tap,web,,,
R3,C2,hvac,90,4,{D}T10:00,{D}T14:00,,Service the unit in the storeroom,email,45.7440,4.8190,5 Quai Rambaud
"""

ABSENCES = f"""technician_ref,start,end,reason
T2,{D}T13:00,{D}T17:00,dentist
"""
