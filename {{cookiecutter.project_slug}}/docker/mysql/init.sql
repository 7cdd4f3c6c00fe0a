-- Runs once, when the MySQL data volume is first created (docker/mysql/initdb.sh fills in the
-- ${...} values from .env). CI applies the very same file to MariaDB.
CREATE DATABASE IF NOT EXISTS `${MYSQL_DATABASE}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- The pipeline's own user: everything on the project database, and on throwaway `test_*`
-- databases so that the test suite can run against this server.
CREATE USER IF NOT EXISTS '${MYSQL_USER}'@'%' IDENTIFIED BY '${MYSQL_PASSWORD}';
GRANT ALL PRIVILEGES ON `${MYSQL_DATABASE}`.* TO '${MYSQL_USER}'@'%';
GRANT ALL PRIVILEGES ON `test\_%`.* TO '${MYSQL_USER}'@'%';

-- The dashboard reads, never writes.
CREATE USER IF NOT EXISTS '${MYSQL_READONLY_USER}'@'%' IDENTIFIED BY '${MYSQL_READONLY_PASSWORD}';
GRANT SELECT ON `${MYSQL_DATABASE}`.* TO '${MYSQL_READONLY_USER}'@'%';
GRANT SELECT ON `test\_%`.* TO '${MYSQL_READONLY_USER}'@'%';
FLUSH PRIVILEGES;
