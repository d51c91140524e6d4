"""A real OpenStack cloud: the ``openstack`` collector (Nova + Placement via
openstacksdk, metrics from a datasource), the ``nova`` actuator and the
mapping of Nova's versioned notifications to model updates.

openstacksdk is an optional dependency (``pip install 'optimizer[openstack]'``).
"""
