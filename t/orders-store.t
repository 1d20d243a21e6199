# The order store on its own (lib/orders/test/orders_store_test.c)
# against SQLite and a real MariaDB, with go-zero's cache keys in a real
# Redis: creation, the state machine, redelivery, close-vs-pay races.
use strict;
use warnings;
use Test::More;
use LL::Test;
use LL::Redis;
use LL::MariaDB;

my $objs = ll_objs();
my $bin  = "$objs/t/orders_store_test";
# built by make test-build (lib/orders/config: ll_tests)
ok(-x $bin, "$bin built") or BAIL_OUT('make test-build first');

my $redis = LL::Redis->start;
my $dir = ll_dir();
ll_run_tap('sqlite', 30, $bin, "sqlite:$dir/data/orders.db", $redis->url);
ok(-f "$dir/data/orders.db", 'sqlite file created, folder included');

SKIP: {
    skip 'mariadb-server not installed', 1 unless LL::MariaDB->available;
    my $db = LL::MariaDB->start;
    ll_run_tap('mariadb', 30, $bin, $db->url, $redis->url);

    # the table is looklook's, column for column
    my $cols = $db->sql("SELECT column_name, column_type, is_nullable,"
        . " column_default FROM information_schema.columns WHERE"
        . " table_schema = 'looklook_order' AND table_name = 'homestay_order'"
        . " ORDER BY ordinal_position");
    is(scalar @$cols, 31, '31 columns');
    is(join(',', map { $_->[0] } @$cols), join(',', qw(id create_time
        update_time delete_time del_state version sn user_id homestay_id title
        sub_title cover info people_num row_type need_food food_info food_price
        homestay_price market_homestay_price homestay_business_id
        homestay_user_id live_start_date live_end_date live_people_num
        trade_state trade_code remark order_total_price food_total_price
        homestay_total_price)), 'columns in looklook order');
    my %type = map { $_->[0] => $_->[1] } @$cols;
    is($type{sn}, 'char(25)', 'sn char(25)');
    is($type{info}, 'varchar(4069)', 'info varchar(4069)');
    is($type{trade_state}, 'tinyint(1)', 'trade_state tinyint(1)');
    is($type{live_start_date}, 'date', 'live_start_date date');
    my $keys = $db->sql("SELECT index_name, non_unique, column_name FROM"
        . " information_schema.statistics WHERE table_schema = 'looklook_order'"
        . " AND table_name = 'homestay_order' ORDER BY index_name");
    is_deeply([ sort { $a->[0] cmp $b->[0] } @$keys ],
              [ [ 'PRIMARY', 0, 'id' ], [ 'idx_sn', 0, 'sn' ] ],
              'PRIMARY KEY (id), UNIQUE KEY idx_sn (sn)');
    $db->stop;
}

done_testing;
