"""Enroll a pool of fake-hardware nodes in a running Ironic and bring them to `available`.

Idempotent: nodes are named <prefix>-<index>; existing ones are reused. A new node is created
with API version 1.10, which puts it straight into `available` (Ironic's pre-1.11 behaviour;
the enroll -> manage -> provide path costs ~10 requests and a cleaning per node, 4 minutes for
1,000 nodes here), then gets its resource class, traits and, once, its power state (fake
hardware leaves it null). A node found in enroll/manageable is moved along the regular path.
Talks to the API on loopback only.

usage: enroll.py <endpoint> <count> <prefix> <resource_class> [timeout_s]
"""
import concurrent.futures
import json
import sys
import time
import urllib.error
import urllib.request

VERSION = '1.78'
ENDPOINT, COUNT, PREFIX, RESOURCE_CLASS = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
TIMEOUT = float(sys.argv[5]) if len(sys.argv) > 5 else 300.0
if not (ENDPOINT.startswith('http://127.0.0.1:') or ENDPOINT.startswith('http://[::1]:')):
    sys.exit('enroll.py talks to loopback endpoints only')

# Traits spread over the pool so that inventories differ from node to node.
TRAIT_SETS = [['CUSTOM_NC_GOLD'], ['CUSTOM_NC_SILVER', 'CUSTOM_RAID'], []]


def call(method, path, body=None, expect=(200, 201, 202, 204), version=VERSION):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(ENDPOINT + path, data=data, method=method)
    req.add_header('X-OpenStack-Ironic-API-Version', version)
    req.add_header('Content-Type', 'application/json')
    for attempt in range(40):
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors='replace')
            if e.code in (409, 503) and attempt < 39:
                time.sleep(0.2 + 0.05 * attempt)
                continue
            if e.code in expect:
                return None
            raise RuntimeError(f'{method} {path} -> {e.code}: {text}')


def get_node(name):
    try:
        return call('GET', f'/v1/nodes/{name}?fields=uuid,name,provision_state,power_state,maintenance', expect=())
    except RuntimeError as e:
        if '-> 404' in str(e):
            return None
        raise


def wait_state(name, wanted, timeout=120.0):
    deadline = time.time() + timeout
    delay = 0.05
    while True:
        node = get_node(name)
        if node['provision_state'] in wanted:
            return node
        if node['provision_state'] in ('clean failed', 'enroll') and 'enroll' not in wanted:
            raise RuntimeError(f'{name} ended in {node["provision_state"]}')
        if time.time() > deadline:
            raise RuntimeError(f'{name} stuck in {node["provision_state"]}')
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


EXISTING = {}


def list_existing():
    marker = None
    while True:
        q = '/v1/nodes?fields=uuid,name,provision_state,power_state,maintenance&limit=1000'
        page = call('GET', q + (f'&marker={marker}' if marker else ''))['nodes']
        for n in page:
            if n.get('name'):
                EXISTING[n['name']] = n
        if len(page) < 1000:
            return
        marker = page[-1]['uuid']


def enroll(index):
    name = f'{PREFIX}-{index:04d}'
    node = EXISTING.get(name)
    if node is None:
        call('POST', '/v1/nodes', {
            'name': name,
            'driver': 'fake-hardware',
            'properties': {'cpus': 8, 'memory_mb': 16384, 'local_gb': 100, 'cpu_arch': 'x86_64'},
            'driver_info': {},
        }, version='1.10')
        call('PATCH', f'/v1/nodes/{name}', [
            {'op': 'add', 'path': '/resource_class', 'value': RESOURCE_CLASS},
            {'op': 'add', 'path': '/network_interface', 'value': 'noop'},
        ])
        traits = TRAIT_SETS[index % len(TRAIT_SETS)]
        if traits:
            call('PUT', f'/v1/nodes/{name}/traits', {'traits': traits})
        node = {'provision_state': 'available', 'power_state': None, 'maintenance': False}
    if node['maintenance']:
        call('DELETE', f'/v1/nodes/{name}/maintenance')
    if node['power_state'] is None:
        call('PUT', f'/v1/nodes/{name}/states/power', {'target': 'power off'})
    state = node['provision_state']
    if state == 'enroll':
        call('PUT', f'/v1/nodes/{name}/states/provision', {'target': 'manage'})
        state = wait_state(name, ('manageable',))['provision_state']
    if state == 'manageable':
        call('PUT', f'/v1/nodes/{name}/states/provision', {'target': 'provide'})
    if state not in ('available', 'active'):
        wait_state(name, ('available', 'active', 'deploying', 'wait call-back', 'deploy failed'), TIMEOUT)
    return name


def main():
    started = time.time()
    list_existing()
    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
        names = list(pool.map(enroll, range(COUNT)))
    print(f'enrolled {len(names)} nodes ({RESOURCE_CLASS}) in {time.time() - started:.1f}s')


if __name__ == '__main__':
    main()
