-- Digest as the PBX does it: a request without credentials, the 401 challenge, then the request
-- with an RFC 7616 qop=auth response for the challenge's nonce (nc=00000001, a fresh cnonce).
-- Each connection alternates: nonces from 401s go into a queue, and the next request on any
-- connection spends one. So half the HTTP requests are challenges and half are authorised.
-- args: path (with the query string), username, password, realm.
local bit = require("bit")
local band, bor, bxor, bnot, rol, rshift, tobit =
  bit.band, bit.bor, bit.bxor, bit.bnot, bit.rol, bit.rshift, bit.tobit

local K, S = {}, {}
local shifts = { {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21} }
for i = 0, 63 do
  K[i] = tobit(math.floor(math.abs(math.sin(i + 1)) * 4294967296))
  S[i] = shifts[math.floor(i / 16) + 1][i % 4 + 1]
end

-- RFC 1321 MD5, hex digest (LuaJIT bit ops; wrk embeds LuaJIT).
function md5(msg)
  local len = #msg
  local bits = len * 8
  local tail = {}
  for i = 0, 7 do tail[i + 1] = string.char(math.floor(bits / 2 ^ (8 * i)) % 256) end
  msg = msg .. "\128" .. string.rep("\0", (55 - len) % 64) .. table.concat(tail)
  local a0, b0, c0, d0 = tobit(0x67452301), tobit(0xefcdab89), tobit(0x98badcfe), tobit(0x10325476)
  local M = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local p = chunk + i * 4
      local x1, x2, x3, x4 = msg:byte(p, p + 3)
      M[i] = tobit(x1 + x2 * 256 + x3 * 65536 + x4 * 16777216)
    end
    local A, B, C, D = a0, b0, c0, d0
    for i = 0, 63 do
      local F, g
      if i < 16 then F = bor(band(B, C), band(bnot(B), D)); g = i
      elseif i < 32 then F = bor(band(D, B), band(bnot(D), C)); g = (5 * i + 1) % 16
      elseif i < 48 then F = bxor(B, C, D); g = (3 * i + 5) % 16
      else F = bxor(C, bor(B, bnot(D))); g = (7 * i) % 16 end
      F = tobit(F + A + K[i] + M[g])
      A, D, C = D, C, B
      B = tobit(B + rol(F, S[i]))
    end
    a0, b0, c0, d0 = tobit(a0 + A), tobit(b0 + B), tobit(c0 + C), tobit(d0 + D)
  end
  local out = {}
  for _, w in ipairs({a0, b0, c0, d0}) do
    for s = 0, 24, 8 do out[#out + 1] = string.format("%02x", band(rshift(w, s), 0xff)) end
  end
  return table.concat(out)
end

local path, user, realm, ha1, ha2
local queue, head, tail, cnonces = {}, 1, 0, 0

function init(args)
  path, user, realm = args[1], args[2], args[4]
  ha1 = md5(user .. ":" .. realm .. ":" .. args[3])
  ha2 = md5("GET:" .. path)
  if md5("") ~= "d41d8cd98f00b204e9800998ecf8427e"
     or md5("The quick brown fox jumps over the lazy dog") ~= "9e107d9d372bb6826bd81d3542a419d6" then
    error("md5 self-test failed")
  end
end

function request()
  if head <= tail then
    local nonce, opaque = queue[head][1], queue[head][2]
    queue[head] = nil
    head = head + 1
    cnonces = cnonces + 1
    local cnonce = string.format("%016x", cnonces)
    local response = md5(ha1 .. ":" .. nonce .. ":00000001:" .. cnonce .. ":auth:" .. ha2)
    local value = string.format(
      'Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5, qop=auth, ' ..
      'nc=00000001, cnonce="%s", response="%s", opaque="%s"',
      user, realm, nonce, path, cnonce, response, opaque)
    return wrk.format("GET", path, {Authorization = value})
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status == 401 then
    local value = headers["www-authenticate"] or headers["WWW-Authenticate"] or ""
    local nonce = value:match('nonce="([^"]+)"')
    if nonce then
      tail = tail + 1
      queue[tail] = {nonce, value:match('opaque="([^"]*)"') or ""}
    end
  end
end
