# RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305, deterministic ephemeral key.
import hashlib, hmac, json, sys
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization as s

def raw_pub(k): return k.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
def extract(salt, ikm): return hmac.new(salt or b'\0'*32, ikm, hashlib.sha256).digest()
def expand(prk, info, L):
    out, t, i = b'', b'', 1
    while len(out) < L:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest(); out += t; i += 1
    return out[:L]
KEM_SUITE = b'KEM' + (0x20).to_bytes(2, 'big')
HPKE_SUITE = b'HPKE' + (0x20).to_bytes(2, 'big') + (1).to_bytes(2, 'big') + (3).to_bytes(2, 'big')
def lx(suite, salt, label, ikm): return extract(salt, b'HPKE-v1' + suite + label + ikm)
def le(suite, prk, label, info, L): return expand(prk, L.to_bytes(2, 'big') + b'HPKE-v1' + suite + label + info, L)
def derive_keypair(ikm):
    dkp = lx(KEM_SUITE, b'', b'dkp_prk', ikm)
    sk = le(KEM_SUITE, dkp, b'sk', b'', 32)
    return X25519PrivateKey.from_private_bytes(sk)
def encap(pkR, skE):
    enc = raw_pub(skE); pkRm = pkR.public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
    dh = skE.exchange(pkR)
    eae = lx(KEM_SUITE, b'', b'eae_prk', dh)
    return le(KEM_SUITE, eae, b'shared_secret', enc + pkRm, 32), enc
def schedule(ss, info):
    psk_id_hash = lx(HPKE_SUITE, b'', b'psk_id_hash', b'')
    info_hash = lx(HPKE_SUITE, b'', b'info_hash', info)
    ctx = b'\0' + psk_id_hash + info_hash
    secret = lx(HPKE_SUITE, ss, b'secret', b'')
    return le(HPKE_SUITE, secret, b'key', ctx, 32), le(HPKE_SUITE, secret, b'base_nonce', ctx, 12)
def seal(pkR, ikmE, info, aad, pt):
    skE = derive_keypair(ikmE)
    ss, enc = encap(pkR, skE)
    key, nonce = schedule(ss, info)
    return enc, ChaCha20Poly1305(key).encrypt(nonce, pt, aad)

if sys.argv[1:] == ['rfc']:
    h = bytes.fromhex
    skR = derive_keypair(h('1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df'))
    print('pkRm', raw_pub(skR).hex())
    enc, ct = seal(skR.public_key(), h('909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b'),
                   h('4f6465206f6e2061204772656369616e2055726e'), h('436f756e742d30'),
                   h('4265617574792069732074727574682c20747275746820626561757479'))
    print('enc', enc.hex()); print('ct', ct.hex())
    sys.exit()

# The CHOM golden vector.
skR = X25519PrivateKey.from_private_bytes(hashlib.sha256(b'chom-sealed-secret-v1 golden recipient').digest())
ikmE = hashlib.sha256(b'chom-sealed-secret-v1 golden ephemeral').digest()
task_id = '00000000-0000-4000-8000-000000000001'
agent = '00000000-0000-4000-8000-0000000000aa'
field = 'configure.site.tls.private_key_pem'
aad = task_id.encode() + b'\0' + agent.encode() + b'\0' + field.encode()
info = b'chom-sealed-secret-v1'
pt = b'-----BEGIN PRIVATE KEY-----\nnot a real key: the CHOM sealed-secret golden vector\n-----END PRIVATE KEY-----\n'
enc, ct = seal(skR.public_key(), ikmE, info, aad, pt)
pkR = raw_pub(skR)
vector = {
    'suite': 'HPKE base mode, DHKEM(X25519, HKDF-SHA256) 0x0020, HKDF-SHA256 0x0001, ChaCha20-Poly1305 0x0003',
    'info': info.decode(),
    'recipient_private_key_hex': skR.private_bytes(s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption()).hex(),
    'recipient_public_key_hex': pkR.hex(),
    'key_id': hashlib.sha256(pkR).digest()[:8].hex(),
    'ephemeral_ikm_hex': ikmE.hex(),
    'task_id': task_id, 'audience_agent_id': agent, 'field': field,
    'aad_hex': aad.hex(),
    'enc_hex': enc.hex(), 'ciphertext_hex': ct.hex(),
    'plaintext': pt.decode(),
}
print(json.dumps(vector, indent=2))
