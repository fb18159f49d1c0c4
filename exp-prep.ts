import pg from 'pg';
import { postgresCpuMs } from './bench/compare.js';
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
await c.connect();
await c.query('drop schema if exists prep cascade; create schema prep; set search_path=prep');
await c.query(`create table sessions (id text primary key, user_id bigint not null, user_agent text, ip text, created_at bigint not null, last_seen_at bigint not null, idle_expires_at bigint not null, absolute_expires_at bigint not null, revoked_at bigint, revoked_reason text);
create index on sessions(user_id); create index on sessions(absolute_expires_at);
create table users (id bigserial primary key, email text, password_hash text, role text, profile text, activated_at bigint, created_at bigint, updated_at bigint, last_login_at bigint);
create table refresh_tokens (token_hash text primary key, session_id text not null references sessions(id) on delete cascade, user_id bigint not null, created_at bigint not null, expires_at bigint not null, rotated_at bigint, revoked_at bigint);
create index on refresh_tokens(session_id); create index on refresh_tokens(expires_at);
insert into users (email, password_hash, role, profile, activated_at, created_at, updated_at) values ('a@b.c','x','user','{}',1,1,1);
insert into sessions values ('s1', 1, 'ua', 'ip', 1, 1, 9e12, 9e12, null, null);`);
const text = `with rotated as (
  update refresh_tokens set rotated_at = $1 where token_hash = $2 and rotated_at is null and revoked_at is null and expires_at > $1 returning session_id, user_id
), touched as (
  update sessions set last_seen_at = $1, idle_expires_at = least(sessions.absolute_expires_at, $3::bigint) from rotated
  where sessions.id = rotated.session_id and sessions.revoked_at is null and sessions.idle_expires_at > $1 and sessions.absolute_expires_at > $1 returning sessions.*
), successor as (
  insert into refresh_tokens (token_hash, session_id, user_id, created_at, expires_at) select $4::text, touched.id, touched.user_id, $1::bigint, least($5::bigint, touched.absolute_expires_at) from touched on conflict (token_hash) do nothing returning token_hash
)
select (select session_id from rotated) as rotated_session_id, touched.*, (select row_to_json(users) from users where users.id = touched.user_id) as owner
from (select 1) as one left join touched on true left join successor on true`;
await c.query(`insert into refresh_tokens values ('t0', 's1', 1, 1, 9e12, null, null)`);
const N = 3000;
for (const named of [false, true, false, true]) {
  await c.query('set synchronous_commit = on');
  const p0 = postgresCpuMs(); const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const cur = `t${named ? 'n' : 'u'}${i}`; const prev = i === 0 ? 't0' : `t${named ? 'n' : 'u'}${i - 1}`;
    if (i === 0) await c.query(`update refresh_tokens set rotated_at = null where token_hash = 't0'`);
    const q = { text, values: [Date.now(), prev, 9e12, cur, 9e12], ...(named ? { name: 'rotate' } : {}) };
    const r = await c.query(q);
    if (r.rows[0].rotated_session_id === null) throw new Error('not rotated ' + i);
  }
  const ms = performance.now() - t0;
  console.log(named ? 'named  ' : 'unnamed', (ms * 1000 / N).toFixed(0), 'µs wall/stmt', ((postgresCpuMs() - p0) * 1000 / N).toFixed(0), 'µs postgres CPU/stmt');
  await c.query(`delete from refresh_tokens where token_hash <> 't0'`);
}
await c.query('drop schema prep cascade'); await c.end();
